/// A license string from package metadata checked against the SPDX license expression
/// syntax (SPDX 2.3 annex D) and the SPDX License List: "MIT", "GPL-2.0-or-later WITH
/// Classpath-exception-2.0", "(MIT OR Apache-2.0) AND BSD-3-Clause". Metadata is full of
/// strings that are not expressions ("GPL-2+", "MIT License", "BSD"); those stay names.
enum SPDXLicenseExpression {
    /// What one license string is, for an SBOM.
    enum Kind: Equatable {
        /// One listed license identifier, spelled as the list spells it.
        case identifier(String)
        /// A valid expression of listed identifiers, canonical spelling.
        case expression(String)
        /// Anything else, as written.
        case name(String)
    }

    static func classify(_ text: String) -> Kind {
        let trimmed = String(text.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
        guard let canonical = canonicalExpression(trimmed) else { return .name(trimmed) }
        if let identifier = SPDXLicenseList.licenses[PackageURL.asciiLowercased(canonical)], identifier == canonical {
            return .identifier(identifier)
        }
        return .expression(canonical)
    }

    /// The expression with identifiers in the list's spelling, or nil where `text` is
    /// not a valid expression of known identifiers.
    static func canonicalExpression(_ text: String) -> String? {
        var parser = Parser(tokens: tokenize(text))
        guard !parser.tokens.isEmpty, let result = parser.parseOr(), parser.position == parser.tokens.count else { return nil }
        return result
    }

    private static func tokenize(_ text: String) -> [String] {
        var tokens: [String] = []
        var current = ""
        for character in text {
            if character == "(" || character == ")" || character == " " || character == "\t" || character == "\n" {
                if !current.isEmpty { tokens.append(current) }
                current = ""
                if character == "(" || character == ")" { tokens.append(String(character)) }
            } else {
                current.append(character)
            }
        }
        if !current.isEmpty { tokens.append(current) }
        return tokens
    }

    /// Recursive descent over: or := and ("OR" and)*; and := with ("AND" with)*;
    /// with := "(" or ")" | license ["WITH" exception].
    private struct Parser {
        let tokens: [String]
        var position = 0

        mutating func parseOr() -> String? {
            guard var left = parseAnd() else { return nil }
            while position < tokens.count && tokens[position] == "OR" {
                position += 1
                guard let right = parseAnd() else { return nil }
                left += " OR " + right
            }
            return left
        }

        mutating func parseAnd() -> String? {
            guard var left = parseTerm() else { return nil }
            while position < tokens.count && tokens[position] == "AND" {
                position += 1
                guard let right = parseTerm() else { return nil }
                left += " AND " + right
            }
            return left
        }

        mutating func parseTerm() -> String? {
            guard position < tokens.count else { return nil }
            let token = tokens[position]
            position += 1
            if token == "(" {
                guard let inner = parseOr(), position < tokens.count, tokens[position] == ")" else { return nil }
                position += 1
                return "(" + inner + ")"
            }
            guard let license = licenseReference(token) else { return nil }
            if position < tokens.count && tokens[position] == "WITH" {
                guard position + 1 < tokens.count,
                      let exception = SPDXLicenseList.exceptions[PackageURL.asciiLowercased(tokens[position + 1])] else { return nil }
                position += 2
                return license + " WITH " + exception
            }
            return license
        }

        /// A listed identifier (a deprecated one like "GPL-2.0+" included) or one with
        /// the "+" (or later) operator. `LicenseRef-`s are not taken from metadata: a
        /// document must define each one it uses.
        private func licenseReference(_ token: String) -> String? {
            if let known = SPDXLicenseList.licenses[PackageURL.asciiLowercased(token)] { return known }
            if token.hasSuffix("+"), let known = SPDXLicenseList.licenses[PackageURL.asciiLowercased(String(token.dropLast()))] {
                return known + "+"
            }
            return nil
        }
    }
}

/// SPDX element and license reference ids: `[A-Za-z0-9.-]+` after their prefix.
enum SPDXIdentifier {
    static func isIdString(_ text: Substring) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy(isIdByte)
    }

    static func isIdByte(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || byte == 0x2E || byte == 0x2D
    }

    /// `text` with every other character replaced by "-" (and "-" for an empty text).
    static func sanitized(_ text: String) -> String {
        let bytes = text.utf8.map { isIdByte($0) ? $0 : UInt8(ascii: "-") }
        return bytes.isEmpty ? "-" : String(decoding: bytes, as: UTF8.self)
    }
}
