/// Python's versions (PEP 440, as the `packaging` library reads and orders them):
/// `[N!]N(.N)*[{a|b|rc}N][.postN][.devN][+local]`, with the spellings PEP 440 normalises
/// (`alpha`, `c`, `pre`, `preview`, `rev`, `r`, `-N` as a post-release, `_`/`-`/`.`
/// separators, a leading `v`, any case). Anything else is not a version: PyPI refuses
/// it, and so does this parser.
public struct PEP440Version: Sendable, Hashable {
    public var epoch: Int = 0
    public var release: [Int] = []
    /// "a", "b" or "rc", and its number.
    public var pre: (letter: String, number: Int)?
    public var post: Int?
    public var dev: Int?
    public var local: [LocalPart] = []

    public enum LocalPart: Sendable, Hashable {
        case number(Int)
        case text(String)
    }

    public static func == (a: PEP440Version, b: PEP440Version) -> Bool { compare(a, b) == 0 }
    public func hash(into hasher: inout Hasher) {
        hasher.combine(epoch)
        var trimmed = release
        while trimmed.last == 0 { trimmed.removeLast() }
        hasher.combine(trimmed)
    }

    public init(parsing text: String) throws(VersionError) {
        var scanner = Scanner(Array(text.trimmingSpaces().lowercased().utf8))
        func fail(_ reason: String) -> VersionError { .invalid(scheme: "PEP 440", version: text, reason: reason) }
        _ = scanner.take("v")
        guard let first = scanner.number() else { throw fail("does not start with a release number") }
        if scanner.take("!") {
            epoch = first
            guard let number = scanner.number() else { throw fail("no release number after the epoch") }
            release = [number]
        } else {
            release = [first]
        }
        while scanner.peek() == 0x2E, let next = scanner.peek(1), isDigit(next) {
            scanner.advance()
            release.append(scanner.number()!)
        }
        // Pre-release.
        var save = scanner.position
        _ = scanner.separator()
        if let letter = scanner.word(["alpha", "beta", "preview", "pre", "rc", "a", "b", "c"]) {
            let normal = ["alpha": "a", "beta": "b", "c": "rc", "pre": "rc", "preview": "rc"][letter] ?? letter
            let beforeNumber = scanner.position
            _ = scanner.separator()
            if let number = scanner.number() { pre = (normal, number) } else { scanner.position = beforeNumber; pre = (normal, 0) }
        } else {
            scanner.position = save
        }
        // Post-release: "-N", or [sep]post|rev|r[sep][N].
        save = scanner.position
        if scanner.take("-"), let number = scanner.number() {
            post = number
        } else {
            scanner.position = save
            _ = scanner.separator()
            if scanner.word(["post", "rev", "r"]) != nil {
                let beforeNumber = scanner.position
                _ = scanner.separator()
                if let number = scanner.number() { post = number } else { scanner.position = beforeNumber; post = 0 }
            } else {
                scanner.position = save
            }
        }
        // Development release.
        save = scanner.position
        _ = scanner.separator()
        if scanner.word(["dev"]) != nil {
            let beforeNumber = scanner.position
            _ = scanner.separator()
            if let number = scanner.number() { dev = number } else { scanner.position = beforeNumber; dev = 0 }
        } else {
            scanner.position = save
        }
        if scanner.take("+") {
            var parts: [LocalPart] = []
            var current: [UInt8] = []
            func flush() throws(VersionError) {
                guard !current.isEmpty else { throw fail("empty local version segment") }
                let word = String(decoding: current, as: UTF8.self)
                parts.append(current.allSatisfy(isDigit) ? .number(Int(word) ?? Int.max) : .text(word))
                current = []
            }
            while let byte = scanner.peek() {
                if byte == 0x2E || byte == 0x2D || byte == 0x5F {
                    try flush()
                } else if isDigit(byte) || (byte >= 0x61 && byte <= 0x7A) {
                    current.append(byte)
                } else {
                    throw fail("invalid character in the local version")
                }
                scanner.advance()
            }
            try flush()
            local = parts
        }
        guard scanner.atEnd else { throw fail("unexpected text at \"\(scanner.restText)\"") }
    }

    /// packaging's ordering key: epoch, release without trailing zeros, then pre (a
    /// development release of a final release sorts before its pre-releases), post, dev, local.
    public static func compare(_ a: PEP440Version, _ b: PEP440Version) -> Int {
        if a.epoch != b.epoch { return a.epoch < b.epoch ? -1 : 1 }
        let count = max(a.release.count, b.release.count)
        for index in 0..<count {
            let left = index < a.release.count ? a.release[index] : 0
            let right = index < b.release.count ? b.release[index] : 0
            if left != right { return left < right ? -1 : 1 }
        }
        let pre = compareKeys(a.preKey, b.preKey)
        if pre != 0 { return pre }
        let post = compareKeys(a.post.map { Key.value(0, $0) } ?? .lowest, b.post.map { Key.value(0, $0) } ?? .lowest)
        if post != 0 { return post }
        let dev = compareKeys(a.dev.map { Key.value(0, $0) } ?? .highest, b.dev.map { Key.value(0, $0) } ?? .highest)
        if dev != 0 { return dev }
        return compareLocal(a.local, b.local)
    }

    enum Key {
        case lowest, value(Int, Int), highest
    }

    var preKey: Key {
        if let pre { return .value(["a": 0, "b": 1, "rc": 2][pre.letter] ?? 2, pre.number) }
        if post == nil && dev != nil { return .lowest }
        return .highest
    }

    static func compareKeys(_ a: Key, _ b: Key) -> Int {
        switch (a, b) {
        case (.lowest, .lowest), (.highest, .highest): return 0
        case (.lowest, _), (_, .highest): return -1
        case (_, .lowest), (.highest, _): return 1
        case (.value(let a1, let a2), .value(let b1, let b2)):
            if a1 != b1 { return a1 < b1 ? -1 : 1 }
            return a2 == b2 ? 0 : (a2 < b2 ? -1 : 1)
        }
    }

    /// No local part sorts first; segments compare numbers above words, words as text.
    static func compareLocal(_ a: [LocalPart], _ b: [LocalPart]) -> Int {
        for (left, right) in zip(a, b) {
            switch (left, right) {
            case (.number(let x), .number(let y)): if x != y { return x < y ? -1 : 1 }
            case (.number, .text): return 1
            case (.text, .number): return -1
            case (.text(let x), .text(let y)): if x != y { return x.utf8.lexicographicallyPrecedes(y.utf8) ? -1 : 1 }
            }
        }
        return a.count == b.count ? 0 : (a.count < b.count ? -1 : 1)
    }
}

/// A cursor over a version's bytes for the hand-written parsers.
struct Scanner {
    let bytes: [UInt8]
    var position = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { position >= bytes.count }
    var restText: String { String(decoding: bytes[min(position, bytes.count)...], as: UTF8.self) }
    func peek(_ offset: Int = 0) -> UInt8? { position + offset < bytes.count ? bytes[position + offset] : nil }
    mutating func advance() { position += 1 }

    mutating func take(_ character: Character) -> Bool {
        guard let byte = peek(), byte == character.asciiValue else { return false }
        position += 1
        return true
    }

    /// One of `-`, `_`, `.`.
    mutating func separator() -> Bool {
        guard let byte = peek(), byte == 0x2D || byte == 0x5F || byte == 0x2E else { return false }
        position += 1
        return true
    }

    mutating func number() -> Int? {
        var value = 0, any = false
        while let byte = peek(), isDigit(byte) {
            value = value.multipliedReportingOverflow(by: 10).partialValue &+ Int(byte - 0x30)
            position += 1
            any = true
        }
        return any ? value : nil
    }

    /// The first of `words` (longest listed first) at the cursor.
    mutating func word(_ words: [String]) -> String? {
        for word in words where bytes[min(position, bytes.count)...].starts(with: word.utf8) {
            position += word.utf8.count
            return word
        }
        return nil
    }
}
