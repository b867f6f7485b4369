#if canImport(Glibc)
import Glibc
#endif
import NIOSSL

/// TLS for the Docker Engine API's TCP listener, from dockerd's options: `--tlscert` and
/// `--tlskey` (the server's certificate chain and key, PEM), and `--tlsverify` with
/// `--tlscacert` (clients must present a certificate that CA signed). Whoever reaches the
/// API is root on this machine, so an address that is not loopback is served only with
/// `--tlsverify` (see `DockerAPIServer.Address.tcp(parsing:tls:)`); TLS without it is for
/// loopback addresses, where it only hides the traffic.
public struct DockerAPITLS: Sendable {
    public let certificatePath: String
    public let keyPath: String
    /// The CA that signs the clients' certificates; nil when clients are not verified.
    public let clientCAPath: String?

    public var verifiesClients: Bool { clientCAPath != nil }

    /// From the four options as the user gave them; nil when none was given. Each rule
    /// broken is named in the words of the options.
    public static func from(certificate: String?, key: String?, clientCA: String?,
                            verify: Bool) throws(DockerAPIServerError) -> DockerAPITLS? {
        if certificate == nil && key == nil && clientCA == nil && !verify { return nil }
        guard let certificate, let key else {
            throw .tls("--tlscert and --tlskey go together: the server's certificate (PEM) and its private key")
        }
        if verify && clientCA == nil {
            throw .tls("--tlsverify needs --tlscacert, the CA that signs the clients' certificates")
        }
        if !verify && clientCA != nil {
            throw .tls("--tlscacert is used with --tlsverify (clients must then present a certificate it signed)")
        }
        for (option, path) in [("--tlscert", certificate), ("--tlskey", key), ("--tlscacert", clientCA ?? "")] where !path.isEmpty {
            guard access(path, R_OK) == 0 else {
                throw .tls("\(option) \(path): \(String(cString: strerror(errno)))")
            }
        }
        let tls = DockerAPITLS(certificatePath: certificate, keyPath: key, clientCAPath: clientCA)
        _ = try tls.makeContext()
        return tls
    }

    /// The server context: TLS 1.2 at least (as dockerd), the chain and key read now, so a
    /// file that is no PEM certificate, a key that is not the certificate's, or a CA file
    /// without certificates is an error at start-up naming the file.
    func makeContext() throws(DockerAPIServerError) -> NIOSSLContext {
        let chain: [NIOSSLCertificate]
        do { chain = try NIOSSLCertificate.fromPEMFile(certificatePath) } catch {
            throw .tls("--tlscert \(certificatePath): not a PEM certificate (\(error))")
        }
        guard !chain.isEmpty else { throw .tls("--tlscert \(certificatePath): no certificate in it") }
        let key: NIOSSLPrivateKey
        do { key = try NIOSSLPrivateKey(file: keyPath, format: .pem) } catch {
            throw .tls("--tlskey \(keyPath): not a PEM private key (\(error))")
        }
        var configuration: TLSConfiguration
        if let clientCAPath {
            let authorities: [NIOSSLCertificate]
            do { authorities = try NIOSSLCertificate.fromPEMFile(clientCAPath) } catch {
                throw .tls("--tlscacert \(clientCAPath): not a PEM certificate (\(error))")
            }
            guard !authorities.isEmpty else { throw .tls("--tlscacert \(clientCAPath): no certificate in it") }
            configuration = .makeServerConfigurationWithMTLS(certificateChain: chain.map { .certificate($0) },
                                                             privateKey: .privateKey(key),
                                                             trustRoots: .certificates(authorities))
        } else {
            configuration = .makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        }
        configuration.minimumTLSVersion = .tlsv12
        do { return try NIOSSLContext(configuration: configuration) } catch {
            throw .tls("--tlscert \(certificatePath) and --tlskey \(keyPath): \(error) (is the key the certificate's?)")
        }
    }
}
