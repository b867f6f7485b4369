#if canImport(Glibc)
import Glibc
#endif
import AsyncHTTPClient
import CaissonSys
import ImageSpec
import Registry
import NIOCore
import NIOHTTP1

/// ADD of an `http://` or `https://` URL, as BuildKit does it: the file is downloaded
/// (redirects followed), named after the last element of the URL's path (`__unnamed__`
/// when it has none), given mode 0600 and the time of its `Last-Modified` header (else
/// the epoch); `--checksum` must match its content; it is not unpacked unless `--unpack`.
/// It lives apart from CopyStep because the download is all that differs from ADD of a
/// local file: once on disk, the file goes into the layer like any other. Git sources
/// are recognised only to be refused by name.
enum RemoteSource {
    /// A downloaded file.
    struct Download: Sendable {
        var url: String
        /// Where it was saved.
        var path: String
        /// Its name in the image when the destination is a directory.
        var name: String
        /// sha256 of its content.
        var digest: Digest
        /// The `Last-Modified` header, as the server sent it.
        var lastModified: String?

        /// What the step's cache key takes from it, as BuildKit keys a URL: by name,
        /// content and modification time (not by URL alone, so changed content is a miss).
        var cacheKey: String { [url, name, digest.description, lastModified ?? ""].joined(separator: "\n") }
    }

    /// The HTTP client for downloads; never shut down, as it lives as long as the process.
    /// A refused connection fails the step at once, as it does in BuildKit (the client
    /// would otherwise retry until its connect timeout).
    private static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .follow(max: 10, allowCycles: false),
                                                     timeout: .init(connect: .seconds(30), read: .seconds(120)))
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    static let userAgent = "caisson/0.1"

    static func isURL(_ source: String) -> Bool { source.hasPrefix("http://") || source.hasPrefix("https://") }

    /// A git repository as BuildKit's Dockerfile frontend recognises one: `git@host:…`,
    /// `git://`, `ssh://`, or an http(s) URL whose path ends in `.git`.
    static func isGit(_ source: String) -> Bool {
        if source.hasPrefix("git@") || source.hasPrefix("git://") || source.hasPrefix("ssh://") { return true }
        return isURL(source) && path(of: source).hasSuffix(".git")
    }

    /// The path of a URL (percent-escapes kept), without query or fragment.
    static func path(of url: String) -> String {
        guard let scheme = url.range(of: "://") else { return "" }
        let rest = url[scheme.upperBound...]
        guard let slash = rest.firstIndex(of: "/") else { return "" }
        return String(rest[slash...].prefix { $0 != "?" && $0 != "#" })
    }

    /// The name the Dockerfile frontend gives a downloaded file: the last element of the
    /// URL's (unescaped) path, or `__unnamed__`.
    static func fileName(of url: String) -> String {
        let last = path(of: url).split(separator: "/").last.map { unescape(String($0)) } ?? ""
        let name = last.split(separator: "/").last.map(String.init) ?? ""
        return name.isEmpty || name == "." || name == ".." ? "__unnamed__" : name
    }

    /// Percent-decoding of a URL path element.
    static func unescape(_ text: String) -> String { Paths.percentDecoded(text) }

    /// Downloads `urls` into `directory` (made here, one file per URL), checking each
    /// against `checksum` when given.
    static func download(_ urls: [String], into directory: String, checksum: Digest?) async throws(BuildError) -> [Download] {
        do { try Files.makeDirectories(directory, mode: 0o700) } catch { throw .system(error) }
        var downloads: [Download] = []
        for (index, url) in urls.enumerated() {
            downloads.append(try await download(url, to: directory + "/\(index)", checksum: checksum))
        }
        return downloads
    }

    /// Downloads one URL to the file `path` (mode 0600, its time from `Last-Modified`).
    static func download(_ url: String, to path: String, checksum: Digest?) async throws(BuildError) -> Download {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "User-Agent", value: userAgent)
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: .hours(1))
        } catch {
            throw .invalid("\(url): cannot download: \(describe(error))")
        }
        guard (200..<300).contains(response.status.code) else {
            throw .invalid("\(url): the server answered \(response.status.code) \(response.status.reasonPhrase)")
        }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .system(SysError("create", path: path)) }
        defer { close(fd) }
        var sha256 = DigestHasher(.sha256)
        // A sha512 checksum needs its own hash; the cache key is always by sha256.
        var pinned = checksum.flatMap { $0.algorithm == .sha256 ? nil : DigestHasher($0.algorithm) }
        do {
            for try await chunk in response.body {
                try chunk.withUnsafeReadableBytes { bytes in
                    sha256.update(bytes)
                    pinned?.update(bytes)
                    try Files.writeAll(fd: fd, buffer: bytes, path: path)
                }
            }
        } catch let error as SysError {
            throw .system(error)
        } catch {
            throw .invalid("\(url): the download failed: \(describe(error))")
        }
        let digest = sha256.finalize()
        if let checksum {
            let actual = pinned?.finalize() ?? digest
            guard actual == checksum else {
                throw .invalid("\(url): checksum mismatch: the download is \(actual), --checksum expects \(checksum)")
            }
        }
        let lastModified = response.headers.first(name: "Last-Modified")
        let seconds = lastModified.flatMap(HTTPDate.parse) ?? 0
        var times = [timespec(tv_sec: Int(seconds), tv_nsec: 0), timespec(tv_sec: Int(seconds), tv_nsec: 0)]
        guard futimens(fd, &times) == 0 else { throw .system(SysError("utimens", path: path)) }
        return Download(url: url, path: path, name: fileName(of: url), digest: digest, lastModified: lastModified)
    }

    /// A transport error in a few words.
    static func describe(_ error: any Error) -> String { RegistryClient.describe(error, peer: "the server") }
}

/// HTTP dates (RFC 9110 section 5.6.7): the IMF-fixdate servers send, and the obsolete
/// RFC 850 and asctime forms recipients must still read.
enum HTTPDate {
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// Seconds since the epoch, or nil for text in none of the three forms.
    static func parse(_ text: String) -> Int64? {
        let fields = text.split { " ,-:".contains($0) }.map(String.init)
        let day, month, year: String
        let time: ArraySlice<String>
        switch fields.count {
        case 8 where fields[7] == "GMT":  // Sun, 06 Nov 1994 08:49:37 GMT / Sunday, 06-Nov-94 08:49:37 GMT
            (day, month, year, time) = (fields[1], fields[2], fields[3], fields[4...6])
        case 7:  // Sun Nov  6 08:49:37 1994
            (day, month, year, time) = (fields[2], fields[1], fields[6], fields[3...5])
        default:
            return nil
        }
        let (hour, minute, second) = (Int32(time[time.startIndex]), Int32(time[time.startIndex + 1]), Int32(time[time.startIndex + 2]))
        guard let monthIndex = months.firstIndex(of: month), let dayNumber = Int32(day), (1...31).contains(dayNumber),
              var yearNumber = Int32(year), let hour, let minute, let second,
              (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second) else { return nil }
        // Two-digit years (RFC 850) as Go reads them: 69-99 are 19xx, 00-68 are 20xx.
        if year.count == 2 { yearNumber += yearNumber >= 69 ? 1900 : 2000 }
        var parts = tm()
        parts.tm_year = yearNumber - 1900
        parts.tm_mon = Int32(monthIndex)
        parts.tm_mday = dayNumber
        parts.tm_hour = hour
        parts.tm_min = minute
        parts.tm_sec = second
        return Int64(timegm(&parts))
    }
}
