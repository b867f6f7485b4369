import ContentStore
import Foundation
import ImageSpec
import Registry
import Testing

@Suite struct ReferenceTests {
    @Test("Docker's normalisation rules", arguments: [
        ("busybox", "docker.io/library/busybox:latest"),
        ("busybox:1.36", "docker.io/library/busybox:1.36"),
        ("library/busybox", "docker.io/library/busybox:latest"),
        ("index.docker.io/library/busybox", "docker.io/library/busybox:latest"),
        ("someone/tool:v2", "docker.io/someone/tool:v2"),
        ("localhost/x", "localhost/x:latest"),
        ("localhost:5000/x", "localhost:5000/x:latest"),
        ("127.0.0.1:5000/a/b/c:t", "127.0.0.1:5000/a/b/c:t"),
        ("quay.io/a/b@sha256:" + String(repeating: "a", count: 64), "quay.io/a/b@sha256:" + String(repeating: "a", count: 64)),
        ("x:t@sha256:" + String(repeating: "b", count: 64), "docker.io/library/x:t@sha256:" + String(repeating: "b", count: 64)),
    ])
    func normalisation(input: String, expected: String) throws {
        #expect(try ImageReference(parsing: input).description == expected)
    }

    @Test("invalid references are refused with the reason", arguments: [
        ("", "empty"), ("x/UPPER", "lower-case"), ("a//b", "empty path component"), ("x:bad tag", "tag"),
        ("x@sha256:short", "64"), ("x@md5:abc", "unsupported algorithm"), ("-x", "lower-case"),
    ])
    func invalid(input: String, reason: String) {
        #expect {
            _ = try ImageReference(parsing: input)
        } throws: { error in
            "\(error)".contains(reason)
        }
    }

    @Test("unqualified names move between registries with docker's library/ rule")
    func searchRegistries() throws {
        let reference = try ImageReference(parsing: "busybox")
        #expect(!reference.isQualified)
        #expect(reference.inRegistry("quay.io").description == "quay.io/busybox:latest")
        #expect(reference.inRegistry("docker.io").description == "docker.io/library/busybox:latest")
    }

    @Test("chain ids follow the image spec")
    func chainIDs() throws {
        let a = Digest.sha256(of: Array("a".utf8)), b = Digest.sha256(of: Array("b".utf8))
        let chain = ChainID.chain([a, b])
        #expect(chain[0] == a)
        #expect(chain[1] == Digest.sha256(of: Array("\(a) \(b)".utf8)))
    }

    @Test("manifests that do not parse, or are not manifests, are refused with the field at fault")
    func badManifests() {
        #expect(throws: ImageSpecError.self) { try Manifest.parse(Array("{not json".utf8)) }
        #expect { try Manifest.parse(Array(#"{"schemaVersion":2,"layers":[]}"#.utf8)) } throws: { "\($0)".contains(".config is required") }
        #expect { try Manifest.parse(Array(#"{"schemaVersion":2,"config":{"mediaType":"x","digest":"sha256:zz","size":1},"layers":[]}"#.utf8)) }
            throws: { "\($0)".contains("invalid digest") }
        #expect { try ManifestKind.detect(Array(#"{"schemaVersion":1,"fsLayers":[]}"#.utf8), declared: nil) }
            throws: { "\($0)".contains("schema 1") }
    }
}

@Suite struct RegistriesConfTests {
    @Test("v2 tables: prefix, location, mirrors, insecure, blocked, longest prefix wins")
    func version2() throws {
        let conf = try RegistriesConf.parse("""
            # comment
            unqualified-search-registries = ["quay.io", 'docker.io']  # trailing comment
            short-name-mode = "permissive"

            [[registry]]
            prefix = "docker.io"
            location = "mirror.internal:5000"
            insecure = true
            [[registry.mirror]]
            location = "cache.internal/dockerhub"

            [[registry]]
            prefix = "docker.io/special"
            location = "special.internal/x"

            [[registry]]
            location = "bad.example.com"
            blocked = true
            """)
        #expect(conf.unqualifiedSearchRegistries == ["quay.io", "docker.io"])
        let endpoints = try conf.pullEndpoints(for: try ImageReference(parsing: "busybox"))
        #expect(endpoints.map(\.description) == ["cache.internal/dockerhub/library/busybox", "mirror.internal:5000/library/busybox"])
        #expect(endpoints[0].isMirror && !endpoints[0].insecure)
        #expect(endpoints[1].insecure && endpoints[1].baseURL == "http://mirror.internal:5000")
        let special = try conf.pullEndpoints(for: try ImageReference(parsing: "docker.io/special/tool"))
        #expect(special.map(\.description) == ["special.internal/x/tool"])
        #expect(throws: RegistryError.self) { try conf.pullEndpoints(for: try ImageReference(parsing: "bad.example.com/a")) }
        let loopback = try conf.pullEndpoints(for: try ImageReference(parsing: "localhost:5000/a"))
        #expect(loopback.first?.insecure == true)
        let remote = try conf.pullEndpoints(for: try ImageReference(parsing: "quay.io/a/b"))
        #expect(remote.first?.baseURL == "https://quay.io")
    }

    @Test("v1 tables: registries.search, registries.insecure, registries.block")
    func version1() throws {
        let conf = try RegistriesConf.parse("""
            [registries.search]
            registries = ['docker.io', "registry.fedoraproject.org"]
            [registries.insecure]
            registries = ["my.registry:5000"]
            [registries.block]
            registries = ["evil.example.com"]
            """)
        #expect(conf.unqualifiedSearchRegistries == ["docker.io", "registry.fedoraproject.org"])
        #expect(try conf.pullEndpoints(for: try ImageReference(parsing: "my.registry:5000/a")).first?.insecure == true)
        #expect(throws: RegistryError.self) { try conf.pullEndpoints(for: try ImageReference(parsing: "evil.example.com/a")) }
    }

    @Test("a malformed file names the line")
    func malformed() {
        #expect { try RegistriesConf.parse("unqualified-search-registries = [\"a\"\n[[registry]]\nlocation = ") } throws: { "\($0)".contains("line") }
        #expect { try RegistriesConf.parse("x = 1.5") } throws: { "\($0)".contains("line 1") }
        #expect { try RegistriesConf.parse("[[registry]]\ninsecure = true") } throws: { "\($0)".contains("neither prefix nor location") }
    }

    @Test("credentials use the docker config.json auth format")
    func credentials() throws {
        let file = try Scratch.directory("auth") + "/auth.json"
        try #"{"auths":{"https://index.docker.io/v1/":{"auth":"dXNlcjpwYXNz"}},"credsStore":"none"}"#
            .write(toFile: file, atomically: true, encoding: .utf8)
        let store = CredentialStore(file: file)
        #expect(try store.credential(for: "docker.io") == Credential(username: "user", password: "pass"))
        try store.store(Credential(username: "a", password: "b:c"), for: "127.0.0.1:5000")
        #expect(try store.credential(for: "127.0.0.1:5000") == Credential(username: "a", password: "b:c"))
        let text = try String(contentsOfFile: file, encoding: .utf8)
        #expect(text.contains("credsStore"))
        #expect(try store.remove(for: "127.0.0.1:5000"))
        #expect(try store.credential(for: "127.0.0.1:5000") == nil)
        #expect(Base64.encode(Array("user:pass".utf8)) == "dXNlcjpwYXNz")
    }
}

@Suite struct ContentStoreTests {
    @Test("content is committed only when digest and size match, and is read-only afterwards")
    func verifiedCommit() throws {
        let store = try ContentStore(root: try Scratch.directory("content"))
        let bytes = Array("hello blob".utf8)
        let digest = Digest.sha256(of: bytes)
        let wrong = Digest.sha256(of: Array("other".utf8))
        #expect { try store.write(bytes, expected: wrong) } throws: { "\($0)".contains("digest mismatch") }
        #expect(!store.contains(wrong))
        #expect(try FileManager.default.contentsOfDirectory(atPath: store.root + "/ingest").isEmpty)
        let ingest = try store.beginIngest(digest: digest, size: 4)
        #expect(throws: ContentStoreError.self) { try bytes.withUnsafeBytes { try ingest.write($0) } }
        ingest.abort()
        try store.write(bytes, expected: digest)
        #expect(try store.read(digest) == bytes)
        let attributes = try FileManager.default.attributesOfItem(atPath: store.path(for: digest))
        #expect((attributes[.posixPermissions] as? Int) == 0o444)
    }

    @Test("an interrupted ingest resumes where it stopped")
    func resume() throws {
        let store = try ContentStore(root: try Scratch.directory("content"))
        let bytes = Array(repeating: UInt8(7), count: 100_000)
        let digest = Digest.sha256(of: bytes)
        let first = try store.beginIngest(digest: digest, size: Int64(bytes.count))
        try bytes[0..<40_000].withUnsafeBytes { try first.write($0) }
        first.suspend()
        let second = try store.beginIngest(digest: digest, size: Int64(bytes.count))
        #expect(second.offset == 40_000)
        try bytes[40_000...].withUnsafeBytes { try second.write($0) }
        try second.commit()
        #expect(try store.read(digest) == bytes)
        #expect(try store.garbageCollect(keep: []).removed == [digest])
        #expect(!store.contains(digest))
    }
}
