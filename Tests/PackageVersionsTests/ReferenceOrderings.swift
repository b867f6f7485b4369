import Foundation
import CaissonTestSupport

/// The orderings' reference implementations on this machine, each asked about many
/// pairs at once: `dpkg --compare-versions`, rpm's `labelCompare` (python3-rpm), PEP 440
/// from Python's `packaging`, npm's own `semver` package, Maven's `ComparableVersion`.
/// Each answers -1, 0 or 1 per pair, or nil where the reference refuses the version.
enum ReferenceOrderings {
    static func dpkg(_ pairs: [(String, String)]) throws -> [Int?] {
        var script = ""
        for (a, b) in pairs {
            // Exit 0 or 1 answers; 2 is a version dpkg refuses.
            script += "dpkg --compare-versions '\(a)' lt '\(b)' 2>/dev/null; lt=$?; dpkg --compare-versions '\(a)' eq '\(b)' 2>/dev/null; eq=$?; "
            script += "if [ $lt = 2 ] || [ $eq = 2 ]; then echo invalid; elif [ $lt = 0 ]; then echo -1; elif [ $eq = 0 ]; then echo 0; else echo 1; fi\n"
        }
        return try lines(Shell.run("/bin/sh", ["-c", script]).stdout)
    }

    static func rpm(_ pairs: [(String, String)]) throws -> [Int?] {
        let program = """
        import json, sys, rpm
        def evr(text):
            epoch = '0'
            if ':' in text: epoch, text = text.split(':', 1)
            version, release = (text.rsplit('-', 1) + [None])[:2] if '-' in text else (text, None)
            return (epoch, version, release)
        for a, b in json.load(sys.stdin):
            print(rpm.labelCompare(evr(a), evr(b)))
        """
        return try python("/usr/bin/python3", program, pairs)
    }

    static func pep440(_ pairs: [(String, String)]) throws -> [Int?] {
        let program = """
        import json, sys
        from packaging.version import Version, InvalidVersion
        for a, b in json.load(sys.stdin):
            try:
                x, y = Version(a), Version(b)
                print(-1 if x < y else (0 if x == y else 1))
            except InvalidVersion:
                print('invalid')
        """
        return try python("/usr/bin/env", program, pairs, arguments: ["python3"])
    }

    static func npmSemver(_ pairs: [(String, String)]) throws -> [Int?] {
        let program = """
        // npm's own copy (nodejs from NodeSource) or Debian's node-semver package.
        const candidates = ['/usr/lib/node_modules/npm/node_modules/semver', '/usr/share/nodejs/semver', 'semver'];
        let semver;
        for (const candidate of candidates) { try { semver = require(candidate); break; } catch (e) {} }
        if (!semver) { console.error('no semver module: install nodejs with npm, or node-semver'); process.exit(2); }
        const pairs = JSON.parse(require('fs').readFileSync(0, 'utf8'));
        for (const [a, b] of pairs) {
          try { console.log(semver.compare(a, b, { loose: true })); } catch (e) { console.log('invalid'); }
        }
        """
        let input = try JSONSerialization.data(withJSONObject: pairs.map { [$0.0, $0.1] })
        let result = try Shell.run("/usr/bin/env", ["node", "-e", program], stdin: String(decoding: input, as: UTF8.self))
        guard result.status == 0 else { throw ReferenceError(tool: "node", output: result.stderr) }
        return lines(result.stdout)
    }

    /// ComparableVersion's main prints, after each argument, how it compares with the
    /// next ("   1.0 > 1.0-alpha"): given A1 B1 A2 B2 ..., every other such line answers a pair.
    static func maven(_ pairs: [(String, String)]) throws -> [Int?] {
        guard let jar = try? FileManager.default.contentsOfDirectory(atPath: "/usr/share/maven/lib")
            .first(where: { $0.hasPrefix("maven-artifact") }) else {
            throw ReferenceError(tool: "maven", output: "no maven-artifact jar in /usr/share/maven/lib (install maven)")
        }
        let arguments = pairs.flatMap { [$0.0, $0.1] }
        let result = try Shell.run("/usr/bin/env", ["java", "-cp", "/usr/share/maven/lib/" + jar,
                                                    "org.apache.maven.artifact.versioning.ComparableVersion"] + arguments)
        guard result.status == 0 else { throw ReferenceError(tool: "java", output: result.stderr) }
        let comparisons = result.stdout.split(separator: "\n").filter { $0.hasPrefix("   ") }
        return stride(from: 0, to: comparisons.count, by: 2).map { index in
            let words = comparisons[index].split(separator: " ")
            guard words.count == 3 else { return nil }
            return ["<": -1, "==": 0, ">": 1][String(words[1])]
        }
    }

    static func python(_ executable: String, _ program: String, _ pairs: [(String, String)], arguments: [String] = []) throws -> [Int?] {
        let input = try JSONSerialization.data(withJSONObject: pairs.map { [$0.0, $0.1] })
        let result = try Shell.run(executable, arguments + ["-c", program], stdin: String(decoding: input, as: UTF8.self))
        guard result.status == 0 else { throw ReferenceError(tool: executable, output: result.stderr) }
        return lines(result.stdout)
    }

    static func lines(_ text: String) -> [Int?] {
        text.split(separator: "\n").map { Int($0).map { $0 < 0 ? -1 : ($0 > 0 ? 1 : 0) } }
    }

    static func lines(_ result: Shell.Result) -> [Int?] { lines(result.stdout) }
}

struct ReferenceError: Error, CustomStringConvertible {
    let tool: String
    let output: String
    var description: String { "\(tool) failed: \(output)" }
}
