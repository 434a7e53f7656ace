import Foundation
import FulcrumClient
import FulcrumCore
import FulcrumLedger
import FulcrumServer
import FulcrumService
import FulcrumTestSupport
import FulcrumWire
import Logging
import NIOCore
import SwiftProtobuf
import Testing

/// An in-process server on a free loopback port over a fresh ledger.
final class TestServer {
    let directory = temporaryDirectory()
    let ledger: Ledger
    let service: Service
    let server: RPCServer

    init(
        network: Network = DemoData.network, configure: (inout RPCServer.Configuration) -> Void = { _ in },
        ledgerOptions: Ledger.Options = Ledger.Options()
    ) async throws {
        ledger = try Ledger(directory: directory, options: ledgerOptions)
        service = Service(ledger: ledger, network: network)
        var configuration = RPCServer.Configuration()
        configuration.port = 0
        configure(&configuration)
        var logger = Logger(label: "test-server")
        logger.logLevel = .critical
        server = try await RPCServer.start(service: service, configuration: configuration, logger: logger)
    }

    var port: Int { server.localAddress.port! }

    func client(token: String? = nil) async throws(FulcrumError) -> FulcrumClient {
        try await FulcrumClient.connect(host: "127.0.0.1", port: port, token: token)
    }

    func stop() async {
        await server.shutdown()
        ledger.close()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// A plain TCP connection to 127.0.0.1:`port` (blocking connect), or nil.
func connectedSocket(port: Int) -> Int32? {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else { return nil }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    guard connected == 0 else {
        close(descriptor)
        return nil
    }
    return descriptor
}

/// A blocking TCP socket that speaks raw bytes, for frame-level tests.
final class RawSocket {
    private let descriptor: Int32
    var descriptorForTests: Int32 { descriptor }
    private var received = ByteBuffer()
    private let parser = FrameParser(payloadBytesMax: Limits.framePayloadBytesMax)

    init(port: Int) throws {
        guard let descriptor = connectedSocket(port: port) else { throw POSIXError(.ECONNREFUSED) }
        self.descriptor = descriptor
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(descriptor) }

    func send(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 { return }  // the server closed the connection
            offset += sent
        }
    }

    func send(_ frame: Frame) {
        var buffer = ByteBuffer()
        frame.write(to: &buffer)
        send(Array(buffer.readableBytesView))
    }

    /// The next frame, or nil when the server closed the connection (or 5 s passed).
    func readFrame() -> Frame? {
        while true {
            if let frame = try? parser.next(from: &received) { return frame }
            var chunk = [UInt8](repeating: 0, count: 65_536)
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            // A socket with SO_RCVTIMEO is never restarted after a signal (SIGCHLD from other tests' children).
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { return nil }
            received.writeBytes(chunk[0..<count])
        }
    }
}

func request(_ opcode: Opcode, id: UInt32, _ message: some SwiftProtobuf.Message) -> Frame {
    Frame(opcode: opcode, requestID: id, payload: message.payload())
}

/// Runs `body` and expects it to throw a `FulcrumError` with `code` (and `path`, when given).
func expectError(
    _ code: FulcrumError.Code, path: String? = nil, sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> Void
) async {
    do {
        try await body()
        Issue.record("expected \(code)", sourceLocation: sourceLocation)
    } catch {
        guard let error = error as? FulcrumError else {
            Issue.record("expected a FulcrumError, got \(error)", sourceLocation: sourceLocation)
            return
        }
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        if let path { #expect(error.path == path, "\(error)", sourceLocation: sourceLocation) }
    }
}
