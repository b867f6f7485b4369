/// A here-document attached to RUN, COPY or ADD (`<<EOF` ... `EOF`). It is its own type
/// because the builder treats it as a file (COPY) or as a script or stdin (RUN), and needs
/// to know whether its body is subject to substitution (unquoted delimiter) and whether
/// leading tabs are stripped (`<<-`).
public struct Heredoc: Sendable, Equatable {
    /// The delimiter, quotes removed (`EOF` for `<<"EOF"`).
    public var name: String
    /// The descriptor written before `<<` (`3<<EOF`), 0 when none.
    public var fileDescriptor: Int
    /// False when any part of the delimiter was quoted: the body is then taken literally.
    public var expand: Bool
    /// `<<-`: leading tabs are removed from every line of the body.
    public var chomp: Bool
    /// The lines between the instruction and the delimiter, with their own line endings.
    public var content: String

    public init(name: String, fileDescriptor: Int = 0, expand: Bool = true, chomp: Bool = false, content: String = "") {
        self.name = name
        self.fileDescriptor = fileDescriptor
        self.expand = expand
        self.chomp = chomp
        self.content = content
    }

    /// The body as the builder uses it: `content`, with leading tabs removed from each line for `<<-`.
    public var body: String {
        guard chomp else { return content }
        var out = String.UnicodeScalarView()
        var atLineStart = true
        for c in content.unicodeScalars {
            if atLineStart && c == "\t" { continue }
            atLineStart = c == "\n"
            out.append(c)
        }
        return String(out)
    }

    /// The body after substitution for an unquoted delimiter (quotes are not special in a
    /// body, only `$` and `\`), or the body as is for a quoted one.
    public func expandedBody(_ env: some VariableLookup) throws(DockerfileError) -> String {
        guard expand else { return body }
        var lexer = ShellLexer(escape: "\\")
        lexer.skipProcessQuotes = true
        return try lexer.word(body, env)
    }

    /// The heredoc a single word opens (`<<EOF`, `<<-"EOF"`, `3<<EOF`), or nil if the word
    /// is not a heredoc marker. The content is empty until the body is read.
    static func marker(_ word: String) throws(DockerfileError) -> Heredoc? {
        // ^(\d*)<<(-?)\s*([^<]*)$
        let s = Array(word.unicodeScalars)
        var i = 0
        var digits = ""
        while i < s.count, ("0"..."9").contains(s[i]) {
            digits.unicodeScalars.append(s[i])
            i += 1
        }
        guard i + 2 <= s.count, s[i] == "<", s[i + 1] == "<" else { return nil }
        i += 2
        var chomp = false
        if i < s.count, s[i] == "-" {
            chomp = true
            i += 1
        }
        while i < s.count, isGoSpace(s[i]) { i += 1 }
        let restScalars = s[i...]
        if restScalars.contains("<") { return nil }
        if restScalars.isEmpty { return nil }
        var rest = ""
        rest.unicodeScalars.append(contentsOf: restScalars)

        var lexer = ShellLexer(escape: "\\")
        lexer.skipUnsetEnv = true
        let words = try lexer.words(rest, [String: String]())
        guard words.count == 1 else { return nil }
        lexer.rawQuotes = true
        let rawWords = try lexer.words(rest, [String: String]())
        guard rawWords.count == words.count else {
            throw .substitution(nil, "internal lexing of heredoc produced inconsistent results: \(rest)")
        }
        func quotes(_ w: String) -> Int { w.unicodeScalars.filter { $0 == "'" || $0 == "\"" }.count }
        return Heredoc(name: words[0], fileDescriptor: Int(digits) ?? 0,
                       expand: quotes(words[0]) == quotes(rawWords[0]), chomp: chomp)
    }

    /// Every heredoc a line opens, in order (`RUN <<a <<b`, `COPY <<a <<b /dir/`).
    static func markers(inLine line: String) throws(DockerfileError) -> [Heredoc] {
        var lexer = ShellLexer(escape: "\\")
        lexer.rawQuotes = true
        lexer.rawEscapes = true
        lexer.skipUnsetEnv = true
        guard let words = try? lexer.words(line, [String: String]()) else { return [] }
        var docs: [Heredoc] = []
        for word in words {
            if let doc = try marker(word) { docs.append(doc) }
        }
        return docs
    }
}
