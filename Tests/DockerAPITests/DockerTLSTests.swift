import Foundation
import Testing

/// The API over TCP with TLS, as dockerd's `--tlsverify --tlscacert --tlscert --tlskey`
/// give it: the docker CLI with a client certificate the CA signed is served (a hijacked
/// `run -i` included, whose end of stdin crosses TLS), one without a certificate, with
/// another CA's, or speaking plain HTTP is not; an address that is not loopback is served
/// only with --tlsverify (tried on an address of a network namespace the test made); every
/// mistake in the options is refused naming it.
@Suite(.serialized)
struct DockerTLSTests {
    /// A CA, the server's certificate (for 127.0.0.1 and 192.0.2.1) and a client's signed by
    /// it, and a client certificate of another CA, made by openssl in `directory`.
    static func makeCertificates(in directory: String) throws {
        let script = #"""
            set -e
            cd "$1"
            key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
            ca() { key "$1-key.pem"; openssl req -x509 -new -key "$1-key.pem" -out "$1.pem" -days 2 -subj "/CN=$1"; }
            signed() { # NAME CA EXTENSIONS
                key "$1-key.pem"
                openssl req -new -key "$1-key.pem" -out "$1.csr" -subj "/CN=$1"
                printf '%s\n' "$3" > "$1.ext"
                openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2-key.pem" -CAcreateserial -out "$1.pem" -days 2 \
                    -extfile "$1.ext" 2>/dev/null
            }
            ca ca
            ca rogue-ca
            signed server ca "$(printf 'subjectAltName=IP:127.0.0.1,IP:192.0.2.1\nextendedKeyUsage=serverAuth')"
            signed client ca "extendedKeyUsage=clientAuth"
            signed rogue rogue-ca "extendedKeyUsage=clientAuth"
            """#
        let made = try Shell.run("/bin/bash", ["-c", script, "certificates", directory])
        guard made.status == 0 else { throw FixtureError(what: "openssl", output: made.stderr) }
    }

    @Test(.enabled(if: DockerCLITests.hasDocker), .timeLimit(.minutes(2)))
    func tlsListener() throws {
        let fixture = try DockerDaemonFixture()
        defer { #expect(fixture.tearDown() == 0) }
        let tls = fixture.directory + "/tls"
        try FileManager.default.createDirectory(atPath: tls, withIntermediateDirectories: true)
        try Self.makeCertificates(in: tls)
        let caisson = DockerDaemonFixture.binDirectory + "/caisson"
        let service = ["system", "service", "--root", fixture.root, "--runroot", fixture.runRoot, "--socket", ""]
        let server = ["--tlscert", tls + "/server.pem", "--tlskey", tls + "/server-key.pem"]
        let verified = ["--tlsverify", "--tlscacert", tls + "/ca.pem"] + server

        // Mistakes, each refused by name before anything is served.
        func refusal(_ arguments: [String], _ words: String, program: String = caisson, _ location: SourceLocation = #_sourceLocation) throws {
            let result = try Shell.run(program, arguments, timeout: 20)
            #expect(result.status != 0, sourceLocation: location)
            #expect(result.stderr.contains(words), "\(result.stderr)", sourceLocation: location)
        }
        try refusal(service + ["--tcp", "127.0.0.1:0", "--tlscert", tls + "/server.pem"], "--tlscert and --tlskey go together")
        try refusal(service + ["--tcp", "127.0.0.1:0", "--tlsverify"] + server, "--tlsverify needs --tlscacert")
        try refusal(service + ["--tcp", "127.0.0.1:0", "--tlscacert", tls + "/ca.pem"] + server, "--tlscacert is used with --tlsverify")
        try refusal(service + ["--tcp", "127.0.0.1:0", "--tlscert", tls + "/server.pem", "--tlskey", tls + "/client-key.pem"],
                    "is the key the certificate's?")
        try refusal(service + ["--tcp", "127.0.0.1:0", "--tlscert", tls + "/server.ext", "--tlskey", tls + "/server-key.pem"],
                    "--tlscert \(tls)/server.ext: not a PEM certificate")
        try refusal(service + ["--tcp", "127.0.0.1:0", "--tlscert", tls + "/missing.pem", "--tlskey", tls + "/server-key.pem"],
                    "--tlscert \(tls)/missing.pem: No such file or directory")
        try refusal(service + verified, "are for --tcp, which is not given")
        // TLS without verified clients is no licence for an open address.
        try refusal(service + ["--tcp", "0.0.0.0:0"] + server, "only loopback addresses are served without --tlsverify")
        let daemon = DockerDaemonFixture.binDirectory + "/caissond"
        try refusal(["--cri-socket", "", "--docker-socket", "", "--tlsverify", "--tlscacert", tls + "/ca.pem"] + server,
                    "are for --docker-tcp, which is not given", program: daemon)

        // Verified clients on loopback.
        let running = try BackgroundProcess(caisson, service + ["--tcp", "127.0.0.1:0"] + verified, log: tls + "/service.log")
        defer { running.stop() }
        let address = try Self.servedAddress(log: tls + "/service.log")
        func docker(_ client: [String], _ arguments: [String], stdin: String? = nil) throws -> Shell.Result {
            try fixture.docker(["-H", address] + client + arguments, stdin: stdin, timeout: 30)
        }
        let certified = ["--tlsverify", "--tlscacert", tls + "/ca.pem", "--tlscert", tls + "/client.pem", "--tlskey", tls + "/client-key.pem"]
        let ran = try docker(certified, ["run", "--rm", "--network", "none", DockerDaemonFixture.image, "echo", "over-tls"])
        #expect(ran.status == 0 && ran.stdout == "over-tls\n", "\(ran.stderr)")
        // A hijacked connection: stdin in, its end passed on (TLS close_notify), output back.
        let piped = try docker(certified, ["run", "-i", "--rm", "--network", "none", DockerDaemonFixture.image, "sh", "-c", "cat; echo done"],
                               stdin: "through-tls\n")
        #expect(piped.status == 0 && piped.stdout == "through-tls\ndone\n", "\(piped.stdout)\(piped.stderr)")

        // Not served: no client certificate, another CA's, plain HTTP.
        let anonymous = try docker(["--tlsverify", "--tlscacert", tls + "/ca.pem"], ["version"])
        #expect(anonymous.status != 0 && !anonymous.stdout.contains("Caisson"), "\(anonymous.stdout)")
        let rogue = try docker(["--tlsverify", "--tlscacert", tls + "/ca.pem", "--tlscert", tls + "/rogue.pem", "--tlskey", tls + "/rogue-key.pem"],
                               ["version"])
        #expect(rogue.status != 0 && !rogue.stdout.contains("Caisson"), "\(rogue.stdout)")
        let plain = try docker([], ["version"])
        #expect(plain.status != 0 && !plain.stdout.contains("Caisson"), "\(plain.stdout)")
        // The server still serves after them.
        #expect(try docker(certified, ["ps", "-a", "--format", "{{.Names}}"]).status == 0)

        // On an address that is not loopback, in a network namespace of the test's own.
        let namespaced = #"""
            set -e
            ip link set lo up
            ip addr add 192.0.2.1/32 dev lo
            "$@" > "$LOG" 2>&1 &
            service=$!
            for _ in $(seq 200); do grep -q 'tcp://' "$LOG" && break; sleep 0.05; done
            address=$(grep -o 'tcp://[^ ]*' "$LOG" | head -1)
            status=0
            "$DOCKER" -H "$address" --tlsverify --tlscacert "$TLS/ca.pem" --tlscert "$TLS/client.pem" --tlskey "$TLS/client-key.pem" \
                version --format '{{.Server.Os}} {{.Server.Platform.Name}}' || status=$?
            kill -INT $service; wait $service || true
            exit $status
            """#
        var environment = fixture.dockerEnvironment
        environment["LOG"] = tls + "/namespaced.log"
        environment["TLS"] = tls
        environment["DOCKER"] = DockerDaemonFixture.dockerCLI
        let outside = try Shell.run("/usr/bin/unshare", ["-n", "/bin/bash", "-c", namespaced, "namespaced", caisson]
                                    + service + ["--tcp", "192.0.2.1:0"] + verified, timeout: 60, environment: environment)
        #expect(outside.status == 0 && outside.stdout.hasPrefix("linux Caisson"),
                "\(outside.stdout)\(outside.stderr)\((try? String(contentsOfFile: tls + "/namespaced.log", encoding: .utf8)) ?? "")")
    }

    /// The `tcp://HOST:PORT` a service printed it serves on.
    static func servedAddress(log: String) throws -> String {
        var text = ""
        for _ in 0..<200 where !text.contains("tcp://") {
            usleep(25_000)
            text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        }
        return try #require(text.split(separator: "\n").first { $0.contains("tcp://") }?
            .split(separator: " ").first { $0.hasPrefix("tcp://") }.map(String.init), "\(text)")
    }
}
