import NIOHTTP1

/// The start of one HTTP/1.1 request: request line and headers, parsed from bytes by
/// `HTTPRequestHead.parse`. The API server reads requests itself (rather than through
/// NIO's HTTP pipeline) because attach and exec take the connection over after a
/// request ("hijack" it): the bytes that follow are the container's stdin, never HTTP.
package struct HTTPRequestHead: Sendable {
    package var method: HTTPMethod
    package var uri: String
    package var version: HTTPVersion
    package var headers: HTTPHeaders

    /// Heads above this are refused (431).
    static let maximumSize = 64 * 1024

    /// How the body is delimited.
    package enum BodyFraming: Equatable, Sendable {
        case none
        case length(Int)
        case chunked
    }

    /// From the bytes before the blank line (without it). Throws `HTTPParseError` naming
    /// what is wrong.
    package static func parse(_ bytes: ArraySlice<UInt8>) throws(HTTPParseError) -> HTTPRequestHead {
        var lines = bytes.split(separator: 0x0a, omittingEmptySubsequences: false).map { line -> ArraySlice<UInt8> in
            line.last == 0x0d ? line.dropLast() : line
        }
        // RFC 9112 2.2: empty lines before the request line are ignored.
        while let first = lines.first, first.isEmpty { lines.removeFirst() }
        guard let requestLine = lines.first else { throw .malformed("empty request") }
        let words = requestLine.split(separator: 0x20, omittingEmptySubsequences: true)
        guard words.count == 3 else { throw .malformed("bad request line") }
        let methodText = String(decoding: words[0], as: UTF8.self)
        guard !methodText.isEmpty, methodText.utf8.allSatisfy({ $0 >= 0x41 && $0 <= 0x5a }) else {
            throw .malformed("bad method \"\(methodText)\"")
        }
        let uri = String(decoding: words[1], as: UTF8.self)
        guard uri.hasPrefix("/"), uri.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else { throw .malformed("bad request target") }
        let versionText = String(decoding: words[2], as: UTF8.self)
        let version: HTTPVersion
        switch versionText {
        case "HTTP/1.1": version = .http1_1
        case "HTTP/1.0": version = .http1_0
        default: throw .unsupportedVersion(versionText)
        }
        var headers = HTTPHeaders()
        for line in lines.dropFirst() where !line.isEmpty {
            guard line.first != 0x20 && line.first != 0x09 else { throw .malformed("obsolete header line folding") }
            guard let colon = line.firstIndex(of: 0x3a), colon > line.startIndex else { throw .malformed("header without a name") }
            let name = line[line.startIndex..<colon]
            guard name.allSatisfy(HTTPRequestHead.isTokenByte) else { throw .malformed("bad header name") }
            var value = line[(colon + 1)...]
            while let first = value.first, first == 0x20 || first == 0x09 { value = value.dropFirst() }
            while let last = value.last, last == 0x20 || last == 0x09 { value = value.dropLast() }
            headers.add(name: String(decoding: name, as: UTF8.self), value: String(decoding: value, as: UTF8.self))
        }
        return HTTPRequestHead(method: HTTPMethod(rawValue: methodText), uri: uri, version: version, headers: headers)
    }

    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5a, 0x61...0x7a: return true
        default: return Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
        }
    }

    /// Content-Length or chunked (RFC 9112 6.3: chunked wins; conflicting lengths and
    /// other transfer codings are errors).
    package func bodyFraming() throws(HTTPParseError) -> BodyFraming {
        let encodings = headers["Transfer-Encoding"].flatMap { $0.split(separator: ",") }
            .map { $0.trimmingSpaces().lowercased() }.filter { !$0.isEmpty }
        if !encodings.isEmpty {
            guard encodings == ["chunked"] else { throw .malformed("unsupported Transfer-Encoding \(encodings.joined(separator: ", "))") }
            return .chunked
        }
        let lengths = Set(headers["Content-Length"].flatMap { $0.split(separator: ",") }.map { $0.trimmingSpaces() })
        guard let text = lengths.first else { return .none }
        guard lengths.count == 1, let length = Int(text), length >= 0, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            throw .malformed("bad Content-Length")
        }
        return length == 0 ? .none : .length(length)
    }

    /// Whether the connection stays open after this request's response.
    var keepAlive: Bool {
        let tokens = headers["Connection"].flatMap { $0.split(separator: ",") }.map { $0.trimmingSpaces().lowercased() }
        if tokens.contains("close") { return false }
        return version == .http1_1 || tokens.contains("keep-alive")
    }

    /// `Connection: Upgrade` with `Upgrade: tcp`: a client ready for a hijacked stream
    /// answered with 101.
    var asksForUpgrade: Bool {
        let tokens = headers["Connection"].flatMap { $0.split(separator: ",") }.map { $0.trimmingSpaces().lowercased() }
        return tokens.contains("upgrade") && !headers["Upgrade"].isEmpty
    }
}

/// What is wrong with a request's bytes (answered 400, or 431/505, then the connection closes).
package enum HTTPParseError: Error, Equatable, CustomStringConvertible {
    case malformed(String)
    case headTooLarge
    case unsupportedVersion(String)
    case bodyTooLarge(Int)

    package var description: String {
        switch self {
        case .malformed(let reason): return "malformed HTTP request: \(reason)"
        case .headTooLarge: return "the request's headers are larger than \(HTTPRequestHead.maximumSize) bytes"
        case .unsupportedVersion(let version): return "unsupported HTTP version \(version)"
        case .bodyTooLarge(let limit): return "the request body is larger than \(limit) bytes"
        }
    }

    var status: HTTPResponseStatus {
        switch self {
        case .malformed: return .badRequest
        case .headTooLarge: return .requestHeaderFieldsTooLarge
        case .unsupportedVersion: return .httpVersionNotSupported
        case .bodyTooLarge: return .payloadTooLarge
        }
    }
}

extension Substring {
    func trimmingSpaces() -> String {
        var slice = self[...]
        while let first = slice.first, first == " " || first == "\t" { slice = slice.dropFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice = slice.dropLast() }
        return String(slice)
    }
}
