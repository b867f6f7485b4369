/// Alpine's ordering (apk-tools 3): `digit{.digit}...{letter}{_suffix{number}}...{~hash}{-rN}`,
/// compared token by token. A number compares numerically unless either side has a
/// leading zero (then as text, as Gentoo does); `_alpha` < `_beta` < `_pre` < `_rc` <
/// (none) < `_cvs` < `_svn` < `_git` < `_hg` < `_p`. When one version runs out first the
/// longer one is newer, unless what it goes on with is a pre-release suffix.
public struct APKVersion: Sendable, Hashable {
    public let bytes: [UInt8]

    public init(parsing text: String) throws(VersionError) {
        bytes = Array(text.trimmingSpaces().utf8)
        var cursor = Cursor(bytes: bytes)
        var token = APKVersion.first(&cursor)
        while token.kind < .end { token = APKVersion.next(token, &cursor) }
        guard token.kind == .end else { throw .invalid(scheme: "apk", version: text, reason: "not an Alpine version") }
    }

    /// Token kinds in apk's order: a version that goes on with a later kind is older.
    enum Kind: Int, Comparable {
        case initialDigit, digit, letter, suffix, suffixNumber, commitHash, revisionNumber, end, invalid
        static func < (a: Kind, b: Kind) -> Bool { a.rawValue < b.rawValue }
    }

    /// Suffix ranks; `none` (5) is the release itself.
    static let suffixes: [String: Int] = ["alpha": 1, "beta": 2, "pre": 3, "rc": 4, "cvs": 6, "svn": 7, "git": 8, "hg": 9, "p": 10]
    static let releaseRank = 5

    struct Token {
        var kind: Kind
        var value: ArraySlice<UInt8> = []
        var number: UInt64 = 0
        var suffix = 0
    }

    struct Cursor {
        let bytes: [UInt8]
        var position = 0
        var current: UInt8? { position < bytes.count ? bytes[position] : nil }
    }

    static func digits(_ kind: Kind, _ cursor: inout Cursor) -> Token {
        let start = cursor.position
        var number: UInt64 = 0
        while let byte = cursor.current, isDigit(byte) {
            number = number &* 10 &+ UInt64(byte - 0x30)
            cursor.position += 1
        }
        let value = cursor.bytes[start..<cursor.position]
        return Token(kind: value.isEmpty ? .invalid : kind, value: value, number: number)
    }

    static func first(_ cursor: inout Cursor) -> Token { digits(.initialDigit, &cursor) }

    static func next(_ previous: Token, _ cursor: inout Cursor) -> Token {
        guard let byte = cursor.current else { return Token(kind: .end) }
        let kind = previous.kind
        switch byte {
        case 0x61...0x7A:
            guard kind <= .digit else { return Token(kind: .invalid) }
            cursor.position += 1
            return Token(kind: .letter, value: cursor.bytes[(cursor.position - 1)..<cursor.position])
        case 0x2E, 0x30...0x39:
            if byte == 0x2E {
                guard kind <= .digit else { return Token(kind: .invalid) }
                cursor.position += 1
            }
            switch kind {
            case .initialDigit, .digit: return digits(.digit, &cursor)
            case .suffix: return digits(.suffixNumber, &cursor)
            default: return Token(kind: .invalid)
            }
        case 0x5F:
            guard kind <= .suffixNumber else { return Token(kind: .invalid) }
            cursor.position += 1
            let start = cursor.position
            while let letter = cursor.current, letter >= 0x61 && letter <= 0x7A { cursor.position += 1 }
            let value = cursor.bytes[start..<cursor.position]
            guard let rank = suffixes[String(decoding: value, as: UTF8.self)] else { return Token(kind: .invalid) }
            return Token(kind: .suffix, value: value, suffix: rank)
        case 0x7E:
            guard kind < .commitHash else { return Token(kind: .invalid) }
            cursor.position += 1
            let start = cursor.position
            while let hex = cursor.current, isDigit(hex) || (hex >= 0x61 && hex <= 0x66) || (hex >= 0x41 && hex <= 0x46) {
                cursor.position += 1
            }
            guard cursor.position > start else { return Token(kind: .invalid) }
            return Token(kind: .commitHash, value: cursor.bytes[start..<cursor.position])
        case 0x2D:
            guard kind < .revisionNumber, cursor.position + 1 < cursor.bytes.count, cursor.bytes[cursor.position + 1] == 0x72 else {
                return Token(kind: .invalid)
            }
            cursor.position += 2
            return digits(.revisionNumber, &cursor)
        default:
            return Token(kind: .invalid)
        }
    }

    static func textOrder(_ a: ArraySlice<UInt8>, _ b: ArraySlice<UInt8>) -> Int {
        for (x, y) in zip(a, b) where x != y { return x < y ? -1 : 1 }
        return a.count == b.count ? 0 : (a.count < b.count ? -1 : 1)
    }

    static func compareTokens(_ a: Token, _ b: Token) -> Int {
        let left: UInt64, right: UInt64
        switch a.kind {
        case .digit where a.value.first == 0x30 || b.value.first == 0x30:
            return textOrder(a.value, b.value)
        case .digit, .initialDigit, .suffixNumber, .revisionNumber:
            left = a.number
            right = b.number
        case .letter:
            left = UInt64(a.value.first ?? 0)
            right = UInt64(b.value.first ?? 0)
        case .suffix:
            left = UInt64(a.suffix)
            right = UInt64(b.suffix)
        default:
            return textOrder(a.value, b.value)
        }
        return left == right ? 0 : (left < right ? -1 : 1)
    }

    public static func compare(_ a: APKVersion, _ b: APKVersion) -> Int {
        var left = Cursor(bytes: a.bytes), right = Cursor(bytes: b.bytes)
        var x = first(&left), y = first(&right)
        while x.kind == y.kind && x.kind < .end {
            let order = compareTokens(x, y)
            if order != 0 { return order }
            x = next(x, &left)
            y = next(y, &right)
        }
        if x.kind == y.kind { return 0 }
        if x.kind == .suffix && x.suffix < releaseRank { return -1 }
        if y.kind == .suffix && y.suffix < releaseRank { return 1 }
        if x.kind > y.kind { return -1 }
        if y.kind > x.kind { return 1 }
        return 0
    }
}

extension APKVersion {
    /// Without the check, for comparisons of versions apk itself would still order.
    init(unchecked text: String) {
        bytes = Array(text.utf8)
    }
}
