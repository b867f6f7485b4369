#if canImport(Glibc)
import Glibc
#endif
import CaissonSys
import Dockerfile

/// The build context: the directory COPY and ADD read from, with the files its
/// `.dockerignore` (or `.containerignore`) leaves out. Paths given by the Dockerfile are
/// cleaned into it and can never name anything outside it.
public struct BuildContext: Sendable {
    public let root: String
    public let ignore: IgnoreFile?

    public init(directory: String) throws(BuildError) {
        root = Paths.absolute(directory)
        guard Files.isDirectory(root) else { throw .invalid("build context \(directory) is not a directory") }
        var ignore: IgnoreFile?
        for name in [".containerignore", ".dockerignore"] where Files.exists(root + "/" + name) {
            do {
                ignore = try IgnoreFile(parsing: try Files.readString(root + "/" + name), file: name)
            } catch {
                throw .wrapping(error)
            }
            break
        }
        self.ignore = ignore
    }

    /// A path as the Dockerfile wrote it, relative to the context root ("." for the root);
    /// `..` cannot climb above the root.
    public static func clean(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") {
            if part == "." || part.isEmpty { continue }
            if part == ".." { _ = parts.popLast(); continue }
            parts.append(part)
        }
        return parts.isEmpty ? "." : parts.joined(separator: "/")
    }

    public func isExcluded(_ relative: String) -> Bool {
        relative != "." && (ignore?.excludes(relative) ?? false)
    }

    static func hasWildcard(_ path: String) -> Bool { path.contains { "*?[".contains($0) } }

    /// The context paths a COPY source names: itself, or for a wildcard pattern every
    /// path it matches (sorted), the ignored ones left out.
    public func sources(matching pattern: String) throws(BuildError) -> [String] {
        let cleaned = BuildContext.clean(pattern)
        guard BuildContext.hasWildcard(cleaned) else {
            var info = stat()
            guard lstat(path(of: cleaned), &info) == 0, !isExcluded(cleaned) else {
                throw .invalid("file not found in build context or excluded by .dockerignore: \(pattern)")
            }
            return [cleaned]
        }
        let matcher: IgnorePattern
        do {
            guard let compiled = try IgnoreFile(patterns: [cleaned], source: "COPY").patterns.first else { return [] }
            matcher = compiled
        } catch {
            throw .wrapping(error)
        }
        // Only as deep as the pattern: a pattern of N elements matches paths of N elements.
        let depth = cleaned.split(separator: "/").count
        var matches: [String] = []
        func walk(_ relative: String, level: Int) {
            let directory = relative == "." ? root : root + "/" + relative
            guard let names = try? Files.listDirectory(directory) else { return }
            for name in names.sorted() {
                let child = relative == "." ? name : relative + "/" + name
                if isExcluded(child) { continue }
                if level == depth {
                    if matcher.matches(child) { matches.append(child) }
                } else if BuildContext.isRealDirectory(root + "/" + child) {
                    walk(child, level: level + 1)
                }
            }
        }
        walk(".", level: 1)
        return matches
    }

    /// A directory, not a symlink to one (the walk never leaves the context).
    static func isRealDirectory(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR
    }

    public func path(of relative: String) -> String { relative == "." ? root : root + "/" + relative }
}
