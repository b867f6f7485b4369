/// RPM's ordering (`rpmvercmp`, rpm 4.18): `[epoch:]version[-release]`, each part split
/// into alphanumeric segments (other characters only separate); `~` sorts before
/// anything (a pre-release), `^` after the base but before anything else that follows;
/// numeric segments compare as numbers and are newer than alphabetic ones.
public struct RPMVersion: Sendable, Hashable {
    public let epoch: UInt64
    public let version: Substring
    public let release: Substring?

    public init(parsing text: String) throws(VersionError) {
        var rest = Substring(text.trimmingSpaces())
        guard !rest.isEmpty else { throw .invalid(scheme: "rpm", version: text, reason: "empty version") }
        if let colon = rest.firstIndex(of: ":") {
            let epochText = rest[..<colon]
            guard epochText.isEmpty || UInt64(epochText) != nil else {
                throw .invalid(scheme: "rpm", version: text, reason: "epoch \"\(epochText)\" is not a number")
            }
            epoch = UInt64(epochText) ?? 0
            rest = rest[rest.index(after: colon)...]
        } else {
            epoch = 0
        }
        if let dash = rest.lastIndex(of: "-") {
            version = rest[..<dash]
            release = rest[rest.index(after: dash)...]
        } else {
            version = rest
            release = nil
        }
    }

    public static func compare(_ a: RPMVersion, _ b: RPMVersion) -> Int {
        if a.epoch != b.epoch { return a.epoch < b.epoch ? -1 : 1 }
        let version = rpmvercmp(Array(a.version.utf8), Array(b.version.utf8))
        if version != 0 { return version }
        // A release missing on one side matches any (as rpm's range checks treat it).
        guard let left = a.release, let right = b.release else { return 0 }
        return rpmvercmp(Array(left.utf8), Array(right.utf8))
    }

    static func rpmvercmp(_ a: [UInt8], _ b: [UInt8]) -> Int {
        if a == b { return 0 }
        let tilde: UInt8 = 0x7E, caret: UInt8 = 0x5E
        func isAlnum(_ c: UInt8) -> Bool { isDigit(c) || isLetter(c) }
        var i = 0, j = 0
        while i < a.count || j < b.count {
            while i < a.count && !isAlnum(a[i]) && a[i] != tilde && a[i] != caret { i += 1 }
            while j < b.count && !isAlnum(b[j]) && b[j] != tilde && b[j] != caret { j += 1 }
            let one: UInt8? = i < a.count ? a[i] : nil, two: UInt8? = j < b.count ? b[j] : nil
            if one == tilde || two == tilde {
                if one != tilde { return 1 }
                if two != tilde { return -1 }
                i += 1; j += 1
                continue
            }
            if one == caret || two == caret {
                if one == nil { return -1 }
                if two == nil { return 1 }
                if one != caret { return 1 }
                if two != caret { return -1 }
                i += 1; j += 1
                continue
            }
            guard one != nil && two != nil else { break }
            let numeric = isDigit(a[i])
            var endA = i, endB = j
            if numeric {
                while endA < a.count && isDigit(a[endA]) { endA += 1 }
                while endB < b.count && isDigit(b[endB]) { endB += 1 }
            } else {
                while endA < a.count && isLetter(a[endA]) { endA += 1 }
                while endB < b.count && isLetter(b[endB]) { endB += 1 }
            }
            // Different kinds: a number is newer than letters.
            if endB == j { return numeric ? 1 : -1 }
            var segmentA = a[i..<endA], segmentB = b[j..<endB]
            if numeric {
                segmentA = segmentA.drop { $0 == 0x30 }
                segmentB = segmentB.drop { $0 == 0x30 }
                if segmentA.count != segmentB.count { return segmentA.count > segmentB.count ? 1 : -1 }
            }
            if segmentA != segmentB { return segmentA.lexicographicallyPrecedes(segmentB) ? -1 : 1 }
            i = endA
            j = endB
        }
        let aDone = i >= a.count, bDone = j >= b.count
        if aDone && bDone { return 0 }
        return aDone ? -1 : 1
    }
}
