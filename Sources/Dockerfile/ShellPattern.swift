/// The glob patterns of `${V#p}`, `${V%p}` and `${V/p/r}`: `?` is one character, `*` any
/// run of characters, `\*` `\?` `\\` are literal, `\}` and `\/` stand for `}` and `/`.
/// BuildKit turns these into regular expressions (so `?` and `*` never match a newline,
/// and the first match wins with stars taking as much, or as little, as they can); this
/// type matches them directly with the same priorities.
struct ShellPattern {
    enum Token: Equatable {
        case literal(Unicode.Scalar)
        case one
        case star
    }

    let tokens: [Token]

    init(_ pattern: String) throws(SubstitutionFailure) {
        var tokens: [Token] = []
        let scalars = Array(pattern.unicodeScalars)
        var i = 0
        while i < scalars.count {
            let c = scalars[i]
            i += 1
            switch c {
            case "*": tokens.append(.star)
            case "?": tokens.append(.one)
            case "\\":
                if i < scalars.count, scalars[i] == "}" || scalars[i] == "/" { continue }
                guard i < scalars.count, ["*", "?", "\\"].contains(scalars[i]) else {
                    let shown = i < scalars.count ? String(scalars[i]) : ""
                    throw SubstitutionFailure(message: "invalid pattern (\(pattern)) in substitution: invalid escape '\\\(shown)'")
                }
                tokens.append(.literal(scalars[i]))
                i += 1
            default: tokens.append(.literal(c))
            }
        }
        self.tokens = tokens
    }

    private init(tokens: [Token]) {
        self.tokens = tokens
    }

    /// The end of the match of the pattern starting at `start` of `subject` that BuildKit's
    /// regular expression picks: with stars greedy, the longest; lazy, the shortest. (For
    /// patterns of literals, `?` and `*` the backtracking order reaches exactly those.)
    /// Computed over the set of reachable positions, token by token, without recursion,
    /// so a long pattern cannot exhaust the stack.
    func matchEnd(_ subject: ArraySlice<Unicode.Scalar>, at start: Int, greedy: Bool) -> Int? {
        let count = subject.endIndex
        var reachable = [Bool](repeating: false, count: count + 1)
        reachable[start] = true
        var any = true
        for token in tokens {
            guard any else { return nil }
            var next = [Bool](repeating: false, count: count + 1)
            any = false
            switch token {
            case .literal(let c):
                for p in start..<count where reachable[p] && subject[p] == c {
                    next[p + 1] = true
                    any = true
                }
            case .one:
                for p in start..<count where reachable[p] && subject[p] != "\n" {
                    next[p + 1] = true
                    any = true
                }
            case .star:
                // From any reachable position, every later position up to a newline.
                var open = false
                for p in start...count {
                    if reachable[p] { open = true }
                    if open {
                        next[p] = true
                        any = true
                    }
                    if p < count && subject[p] == "\n" { open = false }
                }
            }
            reachable = next
        }
        let ends = (start...count).filter { reachable[$0] }
        return greedy ? ends.last : ends.first
    }

    /// `${V#p}` / `${V##p}`: what is left after the shortest (longest) match at the start.
    func trimmingPrefix(of subject: [Unicode.Scalar], greedy: Bool) -> ArraySlice<Unicode.Scalar> {
        guard let end = matchEnd(subject[...], at: 0, greedy: greedy) else { return subject[...] }
        return subject[end...]
    }

    /// `${V%p}` / `${V%%p}`: the same on the reversed string with the reversed pattern.
    func trimmingSuffix(of subject: [Unicode.Scalar], greedy: Bool) -> ArraySlice<Unicode.Scalar> {
        let reversed = ShellPattern(tokens: tokens.reversed())
        let kept = reversed.trimmingPrefix(of: subject.reversed(), greedy: greedy)
        return ArraySlice(kept.reversed())
    }

    /// `${V/p/r}` and `${V//p/r}`: the leftmost (every non-overlapping) match replaced.
    func replacing(in value: String, with replacement: String, all: Bool) -> String {
        let subject = Array(value.unicodeScalars)
        var out = String.UnicodeScalarView()
        var copied = 0
        var search = 0
        var previousEnd = -1
        while search <= subject.count {
            var found: (Int, Int)?
            for start in search...subject.count {
                if let end = matchEnd(subject[...], at: start, greedy: true) {
                    found = (start, end)
                    break
                }
            }
            guard let (start, end) = found else { break }
            if start == end && start == previousEnd {
                search = start + 1
                continue
            }
            out.append(contentsOf: subject[copied..<start])
            out.append(contentsOf: replacement.unicodeScalars)
            copied = end
            previousEnd = end
            search = end == start ? start + 1 : end
            if !all { break }
        }
        out.append(contentsOf: subject[copied...])
        return String(out)
    }
}
