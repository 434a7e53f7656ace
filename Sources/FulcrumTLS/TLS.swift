import FulcrumCore
import NIOCore
import NIOSSL
import Synchronization

/// A server's certificate, key and (for mutual TLS) the CA its clients'
/// certificates must chain to: PEM files, read at start and on reload.
public struct ServerTLSFiles: Sendable, Hashable {
    public var certificate: String
    public var key: String
    /// When set, every client must present a certificate signed by this CA.
    public var clientCA: String?

    public init(certificate: String, key: String, clientCA: String? = nil) {
        self.certificate = certificate
        self.key = key
        self.clientCA = clientCA
    }
}

/// The server side of TLS for one listener: the current context, swapped
/// whole by `reload()` (new connections get the new certificate; those
/// open keep theirs).
public final class ServerTLS: Sendable {
    public let files: ServerTLSFiles
    private let current: Mutex<NIOSSLContext>

    public init(files: ServerTLSFiles) throws(FulcrumError) {
        self.files = files
        current = Mutex(try Self.context(files))
    }

    /// Reads the files again; on an error the old context stays.
    public func reload() throws(FulcrumError) {
        let context = try Self.context(files)
        current.withLock { $0 = context }
    }

    /// The handler a new connection puts first in its pipeline.
    public func makeHandler() -> NIOSSLServerHandler { NIOSSLServerHandler(context: current.withLock { $0 }) }

    private static func context(_ files: ServerTLSFiles) throws(FulcrumError) -> NIOSSLContext {
        let chain = try certificates(files.certificate, path: "tls_cert")
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: files.key, format: .pem)
        } catch {
            throw FulcrumError(.invalidArgument, "cannot read the private key \(files.key): \(error)", path: "tls_key")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        if let clientCA = files.clientCA {
            configuration.trustRoots = .certificates(try certificates(clientCA, path: "tls_client_ca"))
            // Clients are known by their certificate, not by a host name.
            configuration.certificateVerification = .noHostnameVerification
        }
        return try makeContext(configuration, path: "tls_cert")
    }
}

/// The client side: the CA the server's certificate must chain to, and
/// optionally this client's own certificate for mutual TLS.
public struct ClientTLS: Sendable {
    private let context: NIOSSLContext

    public init(ca: String, certificate: String? = nil, key: String? = nil) throws(FulcrumError) {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        configuration.trustRoots = .certificates(try certificates(ca, path: "ca"))
        configuration.certificateVerification = .fullVerification
        if let certificate, let key {
            configuration.certificateChain = try certificates(certificate, path: "tls_cert").map { .certificate($0) }
            do {
                configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
            } catch {
                throw FulcrumError(.invalidArgument, "cannot read the private key \(key): \(error)", path: "tls_key")
            }
        } else if certificate != nil || key != nil {
            throw FulcrumError(.invalidArgument, "a client certificate needs its key, and a key its certificate", path: "tls_cert")
        }
        context = try makeContext(configuration, path: "ca")
    }

    /// The handler for a connection to `host`: its name is checked against
    /// the certificate (an IP address against its IP entries).
    public func makeHandler(host: String) throws -> NIOSSLClientHandler {
        let isAddress = (try? SocketAddress(ipAddress: host, port: 0)) != nil
        return try NIOSSLClientHandler(context: context, serverHostname: isAddress ? nil : host)
    }
}

private func certificates(_ path: String, path field: String) throws(FulcrumError) -> [NIOSSLCertificate] {
    let chain: [NIOSSLCertificate]
    do {
        chain = try NIOSSLCertificate.fromPEMFile(path)
    } catch {
        throw FulcrumError(.invalidArgument, "cannot read certificates from \(path): \(error)", path: field)
    }
    guard !chain.isEmpty else { throw FulcrumError(.invalidArgument, "\(path) holds no PEM certificate", path: field) }
    return chain
}

private func makeContext(_ configuration: TLSConfiguration, path: String) throws(FulcrumError) -> NIOSSLContext {
    do {
        return try NIOSSLContext(configuration: configuration)
    } catch {
        throw FulcrumError(.invalidArgument, "the TLS settings are not usable: \(error)", path: path)
    }
}

/// Whether a host is the loopback (plaintext is allowed there without `--insecure`).
public func isLoopback(_ host: String) -> Bool {
    host == "localhost" || host == "::1" || host.hasPrefix("127.")
}
