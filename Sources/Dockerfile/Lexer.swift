/// One instruction as written, after comments, line continuations and directives are
/// dealt with: the joined text and the physical lines it spans. Heredoc bodies are read
/// afterwards, on request, because only some instructions may have them.
struct LogicalLine: Sendable, Equatable {
    var text: String
    var startLine: Int
    var endLine: Int
}

/// Turns a Dockerfile's bytes into logical lines the way BuildKit's parser reads them:
/// a UTF-8 byte-order mark is dropped, CR LF and LF both end lines, leading whitespace
/// and whole-line comments are dropped, directives are recognised at the top, and the
/// escape character at the end of a line joins it with the next (comment lines and
/// empty lines inside a continuation are skipped).
struct Lexer {
    let file: String
    private var lines: [[UInt8]]   // physical lines with their line endings
    private var index = 0          // next physical line to read (0-based)
    private var directiveScanner = DirectiveScanner()
    /// Continuation lines that were empty, by the logical line's first line (BuildKit warns).
    private(set) var emptyContinuationLines: [Int] = []

    init(bytes: [UInt8], file: String) {
        self.file = file
        var bytes = bytes[...]
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        var lines: [[UInt8]] = []
        var start = bytes.startIndex
        var i = bytes.startIndex
        while i < bytes.endIndex {
            if bytes[i] == UInt8(ascii: "\n") {
                lines.append(Array(bytes[start...i]))
                start = i + 1
            }
            i += 1
        }
        if start < bytes.endIndex { lines.append(Array(bytes[start...])) }
        self.lines = lines
    }

    var directives: Directives { directiveScanner.directives }
    var escape: Unicode.Scalar { directiveScanner.directives.escape }
    /// The number of the last physical line read (1-based).
    var lineNumber: Int { index }

    /// The next instruction's text, or nil at the end of the file.
    mutating func nextLogicalLine() throws(DockerfileError) -> LogicalLine? {
        while index < lines.count {
            var scalars = Self.scalars(trimmingNewline: lines[index])
            index += 1
            let lineNo = index
            scalars = Array(scalars.drop(while: isUnicodeSpace))
            if try directiveScanner.scan(scalars, location: SourceLocation(file: file, line: lineNo)) {
                continue
            }
            if scalars.first == "#" { scalars = [] }  // a comment
            var (text, ended) = trimContinuation(scalars)
            if ended && text.isEmpty { continue }
            var joined = text
            while !ended && index < lines.count {
                let raw = Self.scalars(trimmingNewline: lines[index])
                index += 1
                let stripped = raw.drop(while: isUnicodeSpace)
                if stripped.first == "#" { continue }       // comments inside a continuation
                if stripped.isEmpty {                       // empty continuation line
                    if emptyContinuationLines.last != lineNo { emptyContinuationLines.append(lineNo) }
                    continue
                }
                (text, ended) = trimContinuation(raw)
                joined += text
            }
            var string = ""
            string.unicodeScalars.append(contentsOf: joined)
            return LogicalLine(text: string, startLine: lineNo, endLine: index)
        }
        return nil
    }

    /// Reads a heredoc body after the current line: every line up to the one equal to the
    /// delimiter (after removing its line ending, and its leading tabs for `<<-`). The body
    /// keeps the lines' own endings, as BuildKit keeps them.
    mutating func readHeredocBody(delimiter: String, chomp: Bool, startLine: Int) throws(DockerfileError) -> String {
        let terminator = Array(delimiter.utf8)
        var body: [UInt8] = []
        while index < lines.count {
            let line = lines[index]
            index += 1
            var candidate = line[...]
            while let last = candidate.last, last == UInt8(ascii: "\n") || last == UInt8(ascii: "\r") {
                candidate = candidate.dropLast()
            }
            if chomp { candidate = candidate.drop(while: { $0 == UInt8(ascii: "\t") }) }
            if candidate.elementsEqual(terminator) {
                return String(decoding: body, as: UTF8.self)
            }
            body += line
        }
        throw .unterminatedHeredoc(SourceLocation(file: file, line: startLine, endLine: index), delimiter: delimiter)
    }

    /// Removes a line-continuation escape (and the spaces and tabs after it) from the end of
    /// `line`; `ended` is false when one was there. An escape preceded by another escape
    /// is not a continuation.
    private func trimContinuation(_ line: [Unicode.Scalar]) -> ([Unicode.Scalar], ended: Bool) {
        var end = line.count
        while end > 0, line[end - 1] == " " || line[end - 1] == "\t" { end -= 1 }
        guard end > 0, line[end - 1] == escape else { return (line, true) }
        if end >= 2, line[end - 2] == escape { return (line, true) }
        return (Array(line[..<(end - 1)]), false)
    }

    /// A line's text without its trailing CR and LF characters.
    static func scalars(trimmingNewline line: [UInt8]) -> [Unicode.Scalar] {
        var end = line.count
        while end > 0, line[end - 1] == UInt8(ascii: "\n") || line[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        return Array(String(decoding: line[..<end], as: UTF8.self).unicodeScalars)
    }
}
