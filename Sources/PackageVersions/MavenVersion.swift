/// Maven's ordering (`ComparableVersion`, Maven 3.8): the version is split at `.`, `-`
/// and digit/letter changes into numbers, qualifiers and sub-lists (a `-` or a
/// transition starts a sub-list); qualifiers order `alpha` < `beta` < `milestone` <
/// `rc` = `cr` < `snapshot` < release (``, `ga`, `final`, `release`) < `sp`, unknown
/// ones after those alphabetically; `a1`, `b1`, `m1` mean alpha, beta, milestone;
/// trailing zeros and release qualifiers are dropped before comparing.
public struct MavenVersion: Sendable {
    indirect enum Item {
        case number([UInt8])
        case qualifier(String)
        case list([Item])
    }

    let items: [Item]

    public init(parsing text: String) {
        let version = Array(text.trimmingSpaces().lowercased().utf8)
        // A stack of lists being filled; each sub-list is put into its parent when closed.
        var stack: [[Item]] = [[]]
        var isNumber = false
        var start = 0
        func parsed(_ bytes: ArraySlice<UInt8>, number: Bool) -> Item {
            number ? .number(Array(bytes.drop { $0 == 0x30 })) : MavenVersion.qualifier(String(decoding: bytes, as: UTF8.self), followedByDigit: false)
        }
        func openList() { stack.append([]) }
        for (index, byte) in version.enumerated() {
            if byte == 0x2E {
                stack[stack.count - 1].append(index == start ? .number([]) : parsed(version[start..<index], number: isNumber))
                start = index + 1
            } else if byte == 0x2D {
                stack[stack.count - 1].append(index == start ? .number([]) : parsed(version[start..<index], number: isNumber))
                start = index + 1
                openList()
            } else if isDigit(byte) {
                if !isNumber && index > start {
                    // A qualifier after a dot is one after a dash (1.0.RC1 is 1.0-RC1).
                    if !stack[stack.count - 1].isEmpty { openList() }
                    stack[stack.count - 1].append(MavenVersion.qualifier(String(decoding: version[start..<index], as: UTF8.self),
                                                                        followedByDigit: true))
                    start = index
                    openList()
                }
                isNumber = true
            } else {
                if isNumber && index > start {
                    stack[stack.count - 1].append(parsed(version[start..<index], number: true))
                    start = index
                    openList()
                }
                isNumber = false
            }
        }
        if version.count > start {
            if !isNumber && !stack[stack.count - 1].isEmpty { openList() }
            stack[stack.count - 1].append(parsed(version[start...], number: isNumber))
        }
        while stack.count > 1 {
            let list = MavenVersion.normalized(stack.removeLast())
            stack[stack.count - 1].append(.list(list))
        }
        items = MavenVersion.normalized(stack[0])
    }

    static let qualifiers = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"]
    static let aliases = ["ga": "", "final": "", "release": "", "cr": "rc"]

    static func qualifier(_ text: String, followedByDigit: Bool) -> Item {
        var value = text
        if followedByDigit && value.count == 1 {
            value = ["a": "alpha", "b": "beta", "m": "milestone"][value] ?? value
        }
        return .qualifier(aliases[value] ?? value)
    }

    /// Trailing null items (0, release qualifiers, empty lists) go, from the end until
    /// something else than a null number or qualifier.
    static func normalized(_ list: [Item]) -> [Item] {
        var list = list
        var index = list.count - 1
        while index >= 0 {
            let item = list[index]
            if isNull(item) {
                list.remove(at: index)
            } else if case .list = item {
                // A list stops nothing: keep looking before it.
            } else {
                break
            }
            index -= 1
        }
        return list
    }

    static func isNull(_ item: Item) -> Bool {
        switch item {
        case .number(let digits): return digits.isEmpty
        case .qualifier(let text): return text.isEmpty
        case .list(let items): return items.isEmpty
        }
    }

    static func comparable(_ qualifier: String) -> String {
        if let index = qualifiers.firstIndex(of: qualifier) { return String(index) }
        return "\(qualifiers.count)-\(qualifier)"
    }

    static func compareNumbers(_ a: [UInt8], _ b: [UInt8]) -> Int {
        if a.count != b.count { return a.count < b.count ? -1 : 1 }
        if a == b { return 0 }
        return a.lexicographicallyPrecedes(b) ? -1 : 1
    }

    static func compareText(_ a: String, _ b: String) -> Int {
        a == b ? 0 : (a.utf8.lexicographicallyPrecedes(b.utf8) ? -1 : 1)
    }

    /// `a` against `b`, where nil is the absent item past a list's end.
    static func compare(_ a: Item, _ b: Item?) -> Int {
        switch a {
        case .number(let digits):
            guard let b else { return digits.isEmpty ? 0 : 1 }
            switch b {
            case .number(let other): return compareNumbers(digits, other)
            case .qualifier, .list: return 1
            }
        case .qualifier(let text):
            guard let b else { return compareText(comparable(text), comparable("")) }
            switch b {
            case .number: return -1
            case .qualifier(let other): return compareText(comparable(text), comparable(other))
            case .list: return -1
            }
        case .list(let items):
            guard let b else {
                for item in items {
                    let result = compare(item, nil)
                    if result != 0 { return result }
                }
                return 0
            }
            switch b {
            case .number: return -1
            case .qualifier: return 1
            case .list(let others): return compareLists(items, others)
            }
        }
    }

    static func compareLists(_ a: [Item], _ b: [Item]) -> Int {
        for index in 0..<max(a.count, b.count) {
            let left = index < a.count ? a[index] : nil
            let right = index < b.count ? b[index] : nil
            let result: Int
            if let left {
                result = compare(left, right)
            } else if let right {
                result = -compare(right, nil)
            } else {
                result = 0
            }
            if result != 0 { return result }
        }
        return 0
    }

    public static func compare(_ a: MavenVersion, _ b: MavenVersion) -> Int {
        compareLists(a.items, b.items)
    }
}
