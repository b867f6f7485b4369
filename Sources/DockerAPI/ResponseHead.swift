import NIOHTTP1

/// A response's status line and headers as bytes, and chunked-encoding frames.
enum ResponseHead {
    static func serialize(status: HTTPResponseStatus, headers: HTTPHeaders, version: HTTPVersion) -> [UInt8] {
        var text = "HTTP/\(version.major).\(version.minor) \(status.code) \(status.reasonPhrase)\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        text += "\r\n"
        return Array(text.utf8)
    }

    static func chunk(_ bytes: [UInt8]) -> [UInt8] {
        Array((String(bytes.count, radix: 16) + "\r\n").utf8) + bytes + [0x0d, 0x0a]
    }
}
