#if canImport(Glibc)
import Glibc
#endif
import CaissonSys
import Dockerfile
import ImageSpec

/// The build context: the directory COPY and ADD read from, with the files its
/// `.dockerignore` (or `.containerignore`) leaves out. Paths given by the Dockerfile are
/// cleaned into it and can never name anything outside it.
public struct BuildContext: Sendable {
    public let root: String
    public let ignore: IgnoreFile?

    /// `ignoreFiles`: read `.containerignore`/`.dockerignore` (the build context; not for
    /// another stage's root filesystem, which `COPY --from` reads); `dockerfile`'s own
    /// `NAME.dockerignore` beside it comes first, as BuildKit and buildah read it.
    public init(directory: String, ignoreFiles: Bool = true, dockerfile: String? = nil) throws(BuildError) {
        root = Paths.absolute(directory)
        guard Files.isDirectory(root) else { throw .invalid("build context \(directory) is not a directory") }
        var ignore: IgnoreFile?
        let candidates = (dockerfile.map { [$0 + ".containerignore", $0 + ".dockerignore"] } ?? [])
            + [root + "/.containerignore", root + "/.dockerignore"]
        for path in candidates where ignoreFiles && Files.exists(path) {
            do {
                ignore = try IgnoreFile(parsing: try Files.readString(path), file: Paths.base(path))
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

    /// Whether COPY leaves this path out: it is excluded and, where `!` exceptions may
    /// include paths again, nothing below it is (an excluded directory holding an
    /// included file is still copied, with only what is included, as BuildKit does).
    public func skips(_ relative: String) -> Bool {
        guard isExcluded(relative) else { return false }
        guard ignore?.hasExceptions == true, BuildContext.isRealDirectory(path(of: relative)),
              let names = try? Files.listDirectory(path(of: relative)) else { return true }
        return names.allSatisfy { skips(relative + "/" + $0) }
    }

    static func hasWildcard(_ path: String) -> Bool { path.contains { "*?[".contains($0) } }

    /// The context paths a COPY source names: itself, or for a wildcard pattern every
    /// path it matches (sorted), the ignored ones left out.
    public func sources(matching pattern: String) throws(BuildError) -> [String] {
        let cleaned = BuildContext.clean(pattern)
        guard BuildContext.hasWildcard(cleaned) else {
            var info = stat()
            guard lstat(path(of: cleaned), &info) == 0, !skips(cleaned) else {
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
                if skips(child) { continue }
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

    /// A digest of what COPY reads from these context paths: names, types, modes, link
    /// targets and contents (not times or owners, which COPY does not keep from the context).
    public func digest(of sources: [String]) throws(BuildError) -> String {
        var hasher = DigestHasher(.sha256)
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        func add(_ relative: String, full: String) throws(BuildError) {
            var info = stat()
            guard lstat(full, &info) == 0 else { throw .system(SysError("stat", path: full)) }
            hasher.update(Array("\(relative)\u{0}\(info.st_mode)\u{0}\(info.st_size)\u{0}".utf8))
            switch info.st_mode & S_IFMT {
            case S_IFREG:
                let fd = open(full, O_RDONLY | O_CLOEXEC)
                if fd < 0 { throw .system(SysError("open", path: full)) }
                defer { close(fd) }
                while true {
                    let count = read(fd, &buffer, buffer.count)
                    if count <= 0 { break }
                    buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
                }
            case S_IFLNK:
                var target = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
                let count = readlink(full, &target, Int(PATH_MAX))
                if count > 0 { hasher.update(target[0..<count].map { UInt8(bitPattern: $0) }) }
            case S_IFDIR:
                let names: [String]
                do { names = try Files.listDirectory(full).sorted() } catch { throw .system(error) }
                for name in names {
                    let child = relative == "." ? name : relative + "/" + name
                    if !skips(child) { try add(child, full: full + "/" + name) }
                }
            default:
                break
            }
        }
        for source in sources {
            guard let full = resolvedPath(of: source) else {
                throw .invalid("file not found in build context or excluded by .dockerignore: \(source)")
            }
            try add(source, full: full)
        }
        return hasher.finalize().encoded
    }

    /// A directory, not a symlink to one (the walk never leaves the context).
    static func isRealDirectory(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR
    }

    /// The host path of a context path whose directories are resolved inside the root (a
    /// symlinked directory in the context or in a stage never leads out of it); the last
    /// component is left as it is, for `lstat`.
    public func path(of relative: String) -> String {
        let cleaned = BuildContext.clean(relative)
        if cleaned == "." { return root }
        let parent = Paths.parent("/" + cleaned)
        let base = Paths.base(cleaned)
        guard parent != "/" else { return root + "/" + base }
        return InRootPath.resolvePartially(parent, in: root) + "/" + base
    }

    /// The host path of a context path with every symlink, the last one too, resolved inside
    /// the root, as COPY follows a source that is a link; nil when it leads nowhere.
    public func resolvedPath(of relative: String) -> String? {
        InRootPath.resolve(relative, in: root)
    }
}
