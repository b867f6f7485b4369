@testable import Dockerfile
import Testing

/// `.dockerignore` matching, as moby's patternmatcher and ignorefile do it.
@Suite struct IgnoreFileTests {
    @Test("the documentation's example file")
    func documentationExample() throws {
        let ignore = try IgnoreFile(parsing: """
            # comment
            */temp*
            */*/temp*
            temp?
            """)
        #expect(ignore.patterns.count == 3)
        #expect(ignore.excludes("somedir/temporary.txt"))
        #expect(ignore.excludes("somedir/temp"))
        #expect(ignore.excludes("somedir/subdir/temporary.txt"))
        #expect(ignore.excludes("tempa"))
        #expect(!ignore.excludes("tempab"))
        #expect(!ignore.excludes("temporary.txt"))
        #expect(!ignore.excludes("a/b/c/temp"))
    }

    @Test("exceptions with !: the last matching line wins")
    func exceptions() throws {
        let ignore = try IgnoreFile(parsing: "*.md\n!README*.md\nREADME-secret.md\n")
        #expect(ignore.hasExceptions)
        #expect(ignore.excludes("CHANGES.md"))
        #expect(!ignore.excludes("README.md"))
        #expect(ignore.excludes("README-secret.md"))
        let reversed = try IgnoreFile(parsing: "*.md\nREADME-secret.md\n!README*.md\n")
        #expect(!reversed.excludes("README-secret.md"))
    }

    @Test("** matches any number of directories; a directory's match covers its contents")
    func doubleStar() throws {
        let ignore = try IgnoreFile(parsing: "**/*.go\nbuild/**\nnode_modules\n**/.git\n")
        #expect(ignore.excludes("main.go"))
        #expect(ignore.excludes("a/b/c.go"))
        #expect(!ignore.excludes("a/b/c.gox"))
        #expect(ignore.excludes("build/x/y"))
        #expect(ignore.excludes("node_modules/pkg/index.js"))
        #expect(!ignore.excludes("src/node_modules/x"))
        #expect(ignore.excludes(".git/config"))
        #expect(ignore.excludes("sub/.git/HEAD"))
        #expect(try IgnoreFile(parsing: "**\n!keep\n").excludes("anything/at/all"))
        #expect(!(try IgnoreFile(parsing: "**\n!keep\n").excludes("keep")))
        let middle = try IgnoreFile(parsing: "a/**/z\n")
        #expect(middle.excludes("a/z") && middle.excludes("a/b/c/z") && !middle.excludes("b/a/z"))
    }

    @Test("leading slashes, ./ and .. are cleaned; whitespace trimmed; CRLF and BOM accepted")
    func cleaning() throws {
        let ignore = try IgnoreFile(parsing: "\u{FEFF}/secret.txt\r\n  ./logs/  \r\nsub/../other\r\n\r\n   \r\n")
        #expect(ignore.patterns.map(\.pattern) == ["secret.txt", "logs", "other"])
        #expect(ignore.excludes("secret.txt") && ignore.excludes("./logs/today.log") && ignore.excludes("other"))
        #expect(!ignore.excludes("sub/secret.txt"))
        #expect(!ignore.excludes("."))
    }

    @Test("comments only at the very start of a line")
    func comments() throws {
        let ignore = try IgnoreFile(parsing: "#ignored\n #not a comment\n")
        #expect(ignore.patterns.map(\.pattern) == ["#not a comment"])
    }

    @Test("? and character classes stay within one path element; escapes")
    func classes() throws {
        let ignore = try IgnoreFile(parsing: "file[0-9].txt\n[^a]?.log\nlit\\*eral\n")
        #expect(ignore.excludes("file7.txt") && !ignore.excludes("filex.txt"))
        #expect(ignore.excludes("bc.log") && !ignore.excludes("ac.log") && !ignore.excludes("b/.log"))
        #expect(ignore.excludes("lit*eral") && !ignore.excludes("litXeral"))
        #expect(!(try IgnoreFile(parsing: "a?c\n")).excludes("a/c"))
    }

    @Test("bad patterns are errors with the line; a lone ! is illegal")
    func badPatterns() {
        #expect(throws: DockerfileError.invalidIgnorePattern(file: ".dockerignore", line: 2, pattern: "[a-", "syntax error in pattern")) {
            try IgnoreFile(parsing: "ok\n[a-\n")
        }
        #expect(throws: DockerfileError.self) { try IgnoreFile(parsing: "!\n") }
        #expect(throws: DockerfileError.self) { try IgnoreFile(parsing: "trailing\\\n") }
    }

    @Test("COPY --exclude patterns use the same matcher")
    func excludeFlag() throws {
        let c = try InstructionTests.copy("COPY --exclude=*.txt --exclude=!keep.txt . /dest")
        let ignore = try IgnoreFile(patterns: c.excludes)
        #expect(ignore.excludes("notes.txt") && !ignore.excludes("keep.txt") && !ignore.excludes("main.c"))
    }

    /// (pattern, path, excluded): the corner cases of `**`, classes and regex characters.
    static let table: [(String, String, Bool)] = [
        ("**", "file", true), ("**/", "dir/file/", true), ("**/**", "dir/file", true),
        ("dir/**", "dir/dir2/file", true), ("abc/**", "abc", false), ("abc/**", "abc/def/ghi", true),
        ("**/dir", "dir", true), ("**/dir", "dir/file", true), ("**/dir2/*", "dir/dir2/file", true),
        ("**file", "dir/dir/file", true), ("**/file*.txt*", "dir/dir/file.txt", true),
        ("**/**/*.txt2", "dir/dir/file.txt", false), ("**/*.txt", "file.txt", true),
        ("a**/*.txt", "a/dir/dir/file.txt", true), ("a/*.txt", "a/dir/file.txt", false), ("a/*.txt**", "a/file.txt", true),
        ("a[b-d]e", "ace", true), ("a[b-d]e", "aae", false), ("a[^b-d]e", "aze", true),
        (".*", ".foo", true), (".*", "foo", false), ("abc.def", "abcZdef", false), ("abc?def", "abcZdef", true),
        ("a\\\\", "a\\", true), ("**/foo/bar", "dir/dir2/foo/bar", true), ("**/.foo", "bar.foo", false),
        ("a(b)c/def", "a(b)c/def", true), ("a.|)$(}+{bc", "a.|)$(}+{bc", true), ("a\\*b", "a*b", true),
        ("dist/*.whl", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", true),
    ]

    @Test("pattern corner cases")
    func cornerCases() throws {
        for (pattern, path, excluded) in Self.table {
            #expect(try IgnoreFile(patterns: [pattern]).excludes(path) == excluded, "\(pattern) on \(path)")
        }
        #expect(!(try IgnoreFile(patterns: ["**", "!util/docker/web"])).excludes("util/docker/web/foo"))
        #expect(try IgnoreFile(patterns: ["**", "!util/docker/web", "util/docker/web/foo"]).excludes("util/docker/web/foo"))
    }

    @Test("path cleaning as Go's path.Clean")
    func clean() {
        #expect(cleanPath("") == ".")
        #expect(cleanPath("a//b/./c/..") == "a/b")
        #expect(cleanPath("/../a") == "/a")
        #expect(cleanPath("../../a") == "../../a")
        #expect(cleanPath("a/../..") == "..")
        #expect(cleanPath("/") == "/")
        #expect(cleanPath("./") == ".")
    }
}
