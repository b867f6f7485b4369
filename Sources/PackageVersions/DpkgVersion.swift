/// Debian's version ordering, as `dpkg --compare-versions` has it: `[epoch:]upstream[-revision]`;
/// within upstream and revision, runs of non-digits compare character by character with
/// `~` before everything (even the end), letters before other characters, and runs of
/// digits compare as numbers.
public struct DpkgVersion: Sendable, Hashable {
    public let epoch: UInt64
    public let upstream: Substring
    public let revision: Substring

    public init(parsing text: String) throws(VersionError) {
        let trimmed = text.trimmingSpaces()
        guard !trimmed.isEmpty else { throw .invalid(scheme: "dpkg", version: text, reason: "empty version") }
        var rest = Substring(trimmed)
        if let colon = rest.firstIndex(of: ":") {
            guard let epoch = UInt64(rest[..<colon]), epoch <= UInt64(Int32.max) else {
                throw .invalid(scheme: "dpkg", version: text, reason: "epoch is not a number")
            }
            self.epoch = epoch
            rest = rest[rest.index(after: colon)...]
        } else {
            epoch = 0
        }
        if let dash = rest.lastIndex(of: "-") {
            upstream = rest[..<dash]
            revision = rest[rest.index(after: dash)...]
        } else {
            upstream = rest
            revision = ""
        }
        guard !upstream.isEmpty else { throw .invalid(scheme: "dpkg", version: text, reason: "version number is empty") }
        guard !revision.isEmpty || !rest.hasSuffix("-") else {
            throw .invalid(scheme: "dpkg", version: text, reason: "revision number is empty")
        }
        // dpkg only warns about other faults (a first character not a digit, odd
        // characters) and compares such versions all the same; so does this.
    }

    public static func compare(_ a: DpkgVersion, _ b: DpkgVersion) -> Int {
        if a.epoch != b.epoch { return a.epoch < b.epoch ? -1 : 1 }
        let upstream = compareParts(Array(a.upstream.utf8), Array(b.upstream.utf8))
        if upstream != 0 { return upstream }
        return compareParts(Array(a.revision.utf8), Array(b.revision.utf8))
    }

    /// dpkg's `order`: `~` lowest, end of string next, then letters, then the rest.
    static func order(_ byte: UInt8?) -> Int {
        guard let byte else { return 0 }
        if byte == 0x7E { return -1 }
        if isDigit(byte) { return 0 }
        if isLetter(byte) { return Int(byte) }
        return Int(byte) + 256
    }

    static func compareParts(_ a: [UInt8], _ b: [UInt8]) -> Int {
        var i = 0, j = 0
        while i < a.count || j < b.count {
            var difference = 0
            while (i < a.count && !isDigit(a[i])) || (j < b.count && !isDigit(b[j])) {
                let left = order(i < a.count ? a[i] : nil), right = order(j < b.count ? b[j] : nil)
                if left != right { return left < right ? -1 : 1 }
                i += 1
                j += 1
            }
            while i < a.count && a[i] == 0x30 { i += 1 }
            while j < b.count && b[j] == 0x30 { j += 1 }
            while i < a.count && isDigit(a[i]) && j < b.count && isDigit(b[j]) {
                if difference == 0 { difference = Int(a[i]) - Int(b[j]) }
                i += 1
                j += 1
            }
            if i < a.count && isDigit(a[i]) { return 1 }
            if j < b.count && isDigit(b[j]) { return -1 }
            if difference != 0 { return difference < 0 ? -1 : 1 }
        }
        return 0
    }
}

func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
func isLetter(_ byte: UInt8) -> Bool { (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) }

extension String {
    func trimmingSpaces() -> String {
        var utf8 = Substring(self).utf8
        while let first = utf8.first, first == 0x20 || first == 0x09 || first == 0x0A || first == 0x0D { utf8 = utf8.dropFirst() }
        while let last = utf8.last, last == 0x20 || last == 0x09 || last == 0x0A || last == 0x0D { utf8 = utf8.dropLast() }
        return String(Substring(utf8))
    }
}
