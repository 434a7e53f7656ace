import Foundation
import FulcrumCore
import FulcrumTLS
import FulcrumWire
import NIOCore
import NIOPosix
import SwiftProtobuf
import Synchronization

/// An async client of fulcrumd's binary protocol over one TCP connection.
///
/// Safe to share between tasks: calls from many tasks are pipelined on the
/// connection and answered by request id. Every failure is a `FulcrumError`:
/// the server's typed errors as sent, connection failures as `unavailable`.
///
/// A lost connection is made again on the next call (Hello and token
/// included), no more often than a backoff that doubles from
/// `Limits.clientReconnectBackoffMsInitial` to `...Max`, with jitter so that
/// many clients of a restarted server do not return in step. Calls in the
/// meantime fail at once with `unavailable`; calls in flight when the
/// connection dropped fail with it (they may or may not have been applied:
/// retry with an idempotency key).
public final class FulcrumClient: Sendable {
    /// Where and how to connect.
    private struct Endpoint: Sendable {
        var host: String
        var port: Int
        var token: String?
        var client: String
        var payloadBytesMax: Int
        var requestTimeoutMilliseconds: Int64?
        var tls: ClientTLS?
    }

    /// One TCP connection and why the server refused it, if it did.
    private struct Connection: Sendable {
        let channel: any Channel
        let refusal: ConnectionRefusal
    }

    private struct State: Sendable {
        var connection: Connection?
        var connecting: Task<Connection, any Error>?
        var retryAt: ContinuousClock.Instant?
        var backoffMilliseconds = Limits.clientReconnectBackoffMsInitial
        var closed = false
        /// The endpoint in use: a cluster's leader, as far as the client knows.
        var current = 0
        /// Connections that failed in a row: the backoff starts once every endpoint failed.
        var failures = 0
    }

    /// One server, or the replicas of a cluster (writes follow its leader).
    private let endpoints: [Endpoint]
    private let state = Mutex(State())
    private let writtenPosition = Atomic<UInt64>(0)

    private init(endpoints: [Endpoint]) {
        precondition(!endpoints.isEmpty)
        self.endpoints = endpoints
    }

    private var endpoint: Endpoint { endpoints[state.withLock { $0.current }] }

    /// Connects to `host:port` and says Hello (with `token` when the server
    /// needs one); throws when the server cannot be reached now. With
    /// `requestTimeoutMilliseconds`, a call (Hello and the connection
    /// included) not answered in time fails with `unavailable`.
    public static func connect(
        host: String, port: Int, token: String? = nil, client: String = "fulcrum-swift",
        payloadBytesMax: Int = Limits.framePayloadBytesMax, requestTimeoutMilliseconds: Int64? = nil, tls: ClientTLS? = nil
    ) async throws(FulcrumError) -> FulcrumClient {
        let connection = FulcrumClient.connecting(
            host: host, port: port, token: token, client: client, payloadBytesMax: payloadBytesMax,
            requestTimeoutMilliseconds: requestTimeoutMilliseconds, tls: tls)
        _ = try await connection.connection()
        return connection
    }

    /// Connects to "host:port", or to the first of a cluster's replicas that
    /// answers ("host:port,host:port,…"): a write a follower refuses with
    /// `not_leader` goes again to the leader it names, and a replica that
    /// cannot be reached makes way for the next.
    public static func connect(
        _ addresses: String, token: String? = nil, requestTimeoutMilliseconds: Int64? = nil, tls: ClientTLS? = nil
    ) async throws(FulcrumError) -> FulcrumClient {
        let client = try connecting(addresses, token: token, requestTimeoutMilliseconds: requestTimeoutMilliseconds, tls: tls)
        var attempts = 0
        while true {
            do {
                _ = try await client.connection()
                return client
            } catch {
                attempts += 1
                guard attempts < client.endpoints.count else { throw error }
            }
        }
    }

    /// `connecting(host:port:…)` for "host:port" or a cluster's "host:port,host:port,…".
    public static func connecting(
        _ addresses: String, token: String? = nil, requestTimeoutMilliseconds: Int64? = nil, tls: ClientTLS? = nil
    ) throws(FulcrumError) -> FulcrumClient {
        precondition(requestTimeoutMilliseconds.map { $0 >= 1 } ?? true)
        var endpoints: [Endpoint] = []
        for address in addresses.split(separator: ",", omittingEmptySubsequences: false) {
            let (host, port) = try ServerAddress.parse(String(address))
            endpoints.append(
                Endpoint(
                    host: host, port: port, token: token, client: "fulcrum-swift", payloadBytesMax: Limits.framePayloadBytesMax,
                    requestTimeoutMilliseconds: requestTimeoutMilliseconds, tls: tls))
        }
        return FulcrumClient(endpoints: endpoints)
    }

    /// A client that connects on its first call, and again after each lost
    /// connection: for processes that may start before fulcrumd (the shims).
    public static func connecting(
        host: String, port: Int, token: String? = nil, client: String = "fulcrum-swift",
        payloadBytesMax: Int = Limits.framePayloadBytesMax, requestTimeoutMilliseconds: Int64? = nil, tls: ClientTLS? = nil
    ) -> FulcrumClient {
        precondition(requestTimeoutMilliseconds.map { $0 >= 1 } ?? true)
        return FulcrumClient(
            endpoints: [Endpoint(
                host: host, port: port, token: token, client: client, payloadBytesMax: payloadBytesMax,
                requestTimeoutMilliseconds: requestTimeoutMilliseconds, tls: tls)])
    }

    public func close() async {
        let connection = state.withLock { state in
            state.closed = true
            state.connecting?.cancel()
            return state.connection
        }
        try? await connection?.channel.close()
    }

    /// The open connection, or a new one when the backoff allows.
    private func connection() async throws(FulcrumError) -> Connection {
        enum Next { case ready(Connection), wait(Task<Connection, any Error>), refuse(FulcrumError) }
        let now = ContinuousClock.now
        let next: Next = state.withLock { state in
            if state.closed { return .refuse(FulcrumError(.unavailable, "the client is closed", path: "server")) }
            if let connection = state.connection, connection.channel.isActive { return .ready(connection) }
            if let connecting = state.connecting { return .wait(connecting) }
            let endpoint = endpoints[state.current]
            if let retryAt = state.retryAt, now < retryAt {
                let wait = (retryAt - now).components
                let milliseconds = wait.seconds * 1_000 + wait.attoseconds / 1_000_000_000_000_000
                return .refuse(FulcrumError(
                    .unavailable, "fulcrumd at \(endpoint.host):\(endpoint.port) is unreachable; next attempt in \(milliseconds) ms",
                    path: "server"))
            }
            let task = Task { try await Self.open(endpoint) }
            state.connecting = task
            return .wait(task)
        }
        switch next {
        case .ready(let connection): return connection
        case .refuse(let error): throw error
        case .wait(let task):
            let result = await task.result
            return try state.withLock { (state) throws(FulcrumError) -> Connection in
                if state.connecting == task { state.connecting = nil }
                switch result {
                case .success(let connection):
                    state.connection = connection
                    state.retryAt = nil
                    state.failures = 0
                    state.backoffMilliseconds = Limits.clientReconnectBackoffMsInitial
                    return connection
                case .failure(let error):
                    // The next replica is tried at once; once every one failed, the backoff begins.
                    state.failures += 1
                    state.current = (state.current + 1) % endpoints.count
                    if state.failures >= endpoints.count {
                        // Jitter: anywhere in the upper half of the backoff.
                        let backoff = state.backoffMilliseconds
                        state.retryAt = ContinuousClock.now + .milliseconds(Int64.random(in: backoff / 2...backoff))
                        state.backoffMilliseconds = min(backoff * 2, Limits.clientReconnectBackoffMsMax)
                    }
                    throw error as? FulcrumError ?? FulcrumError(.unavailable, "\(error)", path: "server")
                }
            }
        }
    }

    /// Opens a connection and says Hello on it. A connection the server
    /// closes before answering Hello without a word was shed while it was
    /// still unauthenticated (a flood of new connections); it is opened
    /// again, a bounded number of times.
    private static func open(_ endpoint: Endpoint) async throws(FulcrumError) -> Connection {
        var attempt = 1
        while true {
            switch await openOnce(endpoint) {
            case .success(let connection): return connection
            case .failure(.shed(let error)):
                guard attempt < Limits.clientHelloAttemptsMax else { throw error }
                attempt += 1
            case .failure(.refused(let error)): throw error
            }
        }
    }

    private enum OpenFailure: Error {
        case shed(FulcrumError)
        case refused(FulcrumError)
    }

    private static func openOnce(_ endpoint: Endpoint) async -> Result<Connection, OpenFailure> {
        let refusal = ConnectionRefusal()
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.milliseconds(min(5_000, endpoint.requestTimeoutMilliseconds ?? 5_000)))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if let tls = endpoint.tls { try pipeline.addHandler(tls.makeHandler(host: endpoint.host)) }
                    try pipeline.addHandler(ByteToMessageHandler(FrameDecoder(payloadBytesMax: endpoint.payloadBytesMax)))
                    try pipeline.addHandler(MessageToByteHandler(FrameEncoder()))
                    try pipeline.addHandler(ClientHandler(refusal: refusal))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: endpoint.host, port: endpoint.port).get()
        } catch {
            return .failure(.refused(
                FulcrumError(.unavailable, "cannot connect to \(endpoint.host):\(endpoint.port): \(error)", path: "server")))
        }
        let connection = Connection(channel: channel, refusal: refusal)
        let hello = Fulcrum_V1_HelloRequest.with {
            $0.token = endpoint.token ?? ""
            $0.client = endpoint.client
        }
        do {
            _ = try await Self.send([(.hello, hello.payload())], on: connection, timeoutMilliseconds: endpoint.requestTimeoutMilliseconds)[0].get()
        } catch {
            let error = fulcrumError(error)
            // No error frame (a refusal says why), no timeout (the channel would still be open).
            let shed = error.code == .unavailable && refusal.error == nil && !channel.isActive
            try? await channel.close()
            return .failure(shed ? .shed(error) : .refused(error))
        }
        return .success(connection)
    }

    /// Sends one request and waits for its answer's payload. With a
    /// cluster's replicas, a `not_leader` answer (nothing was applied) sends
    /// it again to the leader named, and an unreachable replica makes way for
    /// the next, a bounded number of times.
    public func call(_ opcode: Opcode, payload: ByteBuffer) async throws(FulcrumError) -> ByteBuffer {
        var attempts = 0
        while true {
            attempts += 1
            let retry = endpoints.count > 1 && attempts < endpoints.count + Limits.clientLeaderRedirectsMax
            let connection: Connection
            do {
                connection = try await self.connection()
            } catch {
                if retry && state.withLock({ $0.retryAt == nil }) { continue }
                throw error
            }
            do {
                return try await Self.send([(opcode, payload)], on: connection, timeoutMilliseconds: endpoint.requestTimeoutMilliseconds)[0].get()
            } catch {
                let error = Self.fulcrumError(error)
                guard error.code == .notLeader, retry else { throw error }
                await follow(error.path, from: connection)
            }
        }
    }

    /// Moves to the leader a follower named (or, when it named none, to the next
    /// replica after a pause: an election is under way).
    private func follow(_ leader: String, from connection: Connection) async {
        let known = endpoints.firstIndex { "\($0.host):\($0.port)" == leader }
        if known == nil { try? await Task.sleep(for: .milliseconds(Limits.clientLeaderWaitMilliseconds)) }
        let stale = state.withLock { state -> Connection? in
            guard state.connection?.channel === connection.channel else { return nil }
            state.current = known ?? (state.current + 1) % endpoints.count
            state.connection = nil
            return connection
        }
        try? await stale?.channel.close()
    }

    /// Sends many requests with one flush and waits for all their answers,
    /// in the order sent (the server may answer them in any order).
    public func pipeline(_ requests: [(opcode: Opcode, payload: ByteBuffer)]) async -> [Result<ByteBuffer, FulcrumError>] {
        let connection: Connection
        do {
            connection = try await self.connection()
        } catch {
            return requests.map { _ in .failure(error) }
        }
        let futures = Self.send(requests, on: connection, timeoutMilliseconds: endpoint.requestTimeoutMilliseconds)
        // One wait for the whole window instead of one suspension per answer.
        let results = try! await EventLoopFuture.whenAllComplete(futures, on: connection.channel.eventLoop).get()  // never fails
        return results.map { $0.mapError(Self.fulcrumError) }
    }

    /// Sends a message and decodes the answer as `Response`; a write's
    /// answer moves `logPosition`.
    public func call<Response: SwiftProtobuf.Message>(
        _ opcode: Opcode, _ request: some SwiftProtobuf.Message, as: Response.Type = Response.self
    ) async throws(FulcrumError) -> Response {
        let response = try Response(payload: try await call(opcode, payload: request.payload()))
        if let written = response as? any LogPositioned { writtenPosition.max(written.logPosition, ordering: .relaxed) }
        return response
    }

    /// The highest log position this client's writes were answered at (0
    /// until a replica of a cluster answered one): as a read's
    /// `min_position`, at any replica, it makes the read see them all.
    public var logPosition: UInt64 { writtenPosition.load(ordering: .relaxed) }

    /// Writes `requests` and flushes, in one hop to the channel's event
    /// loop; the futures are their answers. When the writes fail (the
    /// connection closed), the answers fail too, so nobody waits for a
    /// request that never left; an answer already given stays as it was.
    private static func send(
        _ requests: [(opcode: Opcode, payload: ByteBuffer)], on connection: Connection, timeoutMilliseconds: Int64?
    ) -> [EventLoopFuture<ByteBuffer>]
    {
        guard !requests.isEmpty else { return [] }
        let channel = connection.channel
        let loop = channel.eventLoop
        let answers = requests.map { _ in loop.makePromise(of: ByteBuffer.self) }
        let written = loop.makePromise(of: Void.self)
        written.futureResult.whenFailure { [refusal = connection.refusal] error in
            let failure = refusal.error ?? FulcrumError(.unavailable, "the request was not sent: \(error)")
            for answer in answers { answer.fail(failure) }
        }
        loop.execute {
            for (index, request) in requests.enumerated() {
                let call = PendingCall(
                    opcode: request.opcode, payload: request.payload, promise: answers[index],
                    timeoutMilliseconds: timeoutMilliseconds)
                // A closed channel fails every write: the last one's promise speaks for the batch.
                channel.write(call, promise: index == requests.count - 1 ? written : nil)
            }
            channel.flush()
        }
        return answers.map(\.futureResult)
    }

    private static func fulcrumError(_ error: any Error) -> FulcrumError {
        error as? FulcrumError ?? FulcrumError(.unavailable, "\(error)")
    }
}

// One method per operation.
extension FulcrumClient {
    public func hello(_ request: Fulcrum_V1_HelloRequest) async throws(FulcrumError) -> Fulcrum_V1_HelloResponse {
        try await call(.hello, request)
    }

    public func health() async throws(FulcrumError) -> Fulcrum_V1_HealthResponse {
        try await call(.health, Fulcrum_V1_HealthRequest())
    }

    public func stats() async throws(FulcrumError) -> Fulcrum_V1_StatsResponse {
        try await call(.stats, Fulcrum_V1_StatsRequest())
    }

    /// The audit trail, newest first (needs the admin scope).
    public func audit(before: String? = nil, limit: Int = 100) async throws(FulcrumError) -> [AuditEntry] {
        let response: Fulcrum_V1_AuditResponse = try await call(.audit, Fulcrum_V1_AuditRequest.with {
            $0.before = before ?? ""
            $0.limit = UInt32(clamping: limit)
        })
        return response.entries.map(AuditEntry.init)
    }

    /// Downloads a snapshot of the server's ledger (the snapshot RPC, admin
    /// scope) to `file`, replaced when present, chunk by chunk, and checks
    /// its size and CRC-32C. Answers the log position the copy holds.
    public func downloadSnapshot(to file: String) async throws(FulcrumError) -> (position: UInt64, sizeBytes: UInt64) {
        guard FileManager.default.createFile(atPath: file, contents: nil) else {
            throw FulcrumError(.storage, "cannot create \(file)", path: file)
        }
        let output: FileHandle
        do { output = try FileHandle(forWritingTo: URL(fileURLWithPath: file)) } catch {
            throw FulcrumError(.storage, "cannot open \(file): \(error)", path: file)
        }
        defer { try? output.close() }
        var check = CRC32C()
        var response: Fulcrum_V1_SnapshotResponse = try await call(.snapshot, Fulcrum_V1_SnapshotRequest())
        var written: UInt64 = 0
        while true {
            guard response.offset == written, written + UInt64(response.chunk.count) <= response.sizeBytes else {
                throw FulcrumError(.corrupt, "snapshot \(response.snapshot) answered bytes from \(response.offset), not \(written)", path: "offset")
            }
            do { try output.write(contentsOf: response.chunk) } catch {
                throw FulcrumError(.storage, "cannot write \(file): \(error)", path: file)
            }
            response.chunk.withUnsafeBytes { check.update($0) }
            written += UInt64(response.chunk.count)
            if written == response.sizeBytes { break }
            guard !response.chunk.isEmpty else {
                throw FulcrumError(.corrupt, "snapshot \(response.snapshot) ended at \(written) of \(response.sizeBytes) bytes", path: "offset")
            }
            let offset = written
            response = try await call(.snapshot, Fulcrum_V1_SnapshotRequest.with {
                $0.snapshot = response.snapshot
                $0.offset = offset
            })
        }
        guard check.value == response.crc32C else {
            throw FulcrumError(.corrupt, "snapshot \(response.snapshot) does not match its CRC-32C \(response.crc32C)", path: file)
        }
        do { try output.synchronize() } catch {
            throw FulcrumError(.storage, "cannot sync \(file): \(error)", path: file)
        }
        return (response.position, response.sizeBytes)
    }

    /// The fulfillment profiles in force; with `reload`, after the server
    /// read its profiles file again (admin scope).
    public func profiles(reload: Bool = false) async throws(FulcrumError) -> FulfillmentProfiles {
        let response: Fulcrum_V1_ProfilesResponse = try await call(reload ? .reloadProfiles : .profiles, Fulcrum_V1_ProfilesRequest())
        return try response.domain()
    }

    /// The SKU catalogue; with `upsert`, after adding or replacing those SKUs.
    public func skus(upsert: [SKU] = []) async throws(FulcrumError) -> [SKU] {
        let response: Fulcrum_V1_SkusResponse = try await call(
            upsert.isEmpty ? .skus : .upsertSkus, Fulcrum_V1_SkusRequest.with { $0.skus = upsert.map(Fulcrum_V1_Sku.init) })
        return response.skus.map(\.domain)
    }

    /// The live network: every node as it stands, or one with its newest changes first.
    public func nodes(_ node: String? = nil, limit: Int = Limits.pageItemsDefault) async throws(FulcrumError) -> [NodeStatus] {
        let response: Fulcrum_V1_NodesResponse = try await call(.nodes, Fulcrum_V1_NodesRequest.with {
            $0.node = node ?? ""
            $0.limit = UInt32(clamping: limit)
        })
        return try response.nodes.map { (status) throws(FulcrumError) in try status.domain() }
    }

    /// Changes a node's settings (admin scope); answers the node with its changes.
    public func updateNode(_ node: String, _ update: NodeUpdate) async throws(FulcrumError) -> NodeStatus {
        let response: Fulcrum_V1_NodesResponse = try await call(.updateNode, Fulcrum_V1_UpdateNodeRequest(node: node, update))
        guard let status = response.nodes.first else {
            throw FulcrumError(.corrupt, "the server answered no node", path: "nodes")
        }
        return try status.domain()
    }

    public func adjust(_ request: Fulcrum_V1_AdjustRequest) async throws(FulcrumError) -> Fulcrum_V1_PositionResponse {
        try await call(.adjust, request)
    }

    public func adjustBatch(_ request: Fulcrum_V1_AdjustBatchRequest) async throws(FulcrumError)
        -> Fulcrum_V1_AdjustBatchResponse
    {
        try await call(.adjustBatch, request)
    }

    public func schedule(_ request: Fulcrum_V1_ScheduleRequest) async throws(FulcrumError) -> Fulcrum_V1_ScheduleResponse {
        try await call(.schedule, request)
    }

    public func receive(_ request: Fulcrum_V1_ReceiveRequest) async throws(FulcrumError) -> Fulcrum_V1_PositionResponse {
        try await call(.receive, request)
    }

    public func reschedule(_ request: Fulcrum_V1_RescheduleRequest) async throws(FulcrumError) -> Fulcrum_V1_ScheduleResponse {
        try await call(.reschedule, request)
    }

    public func transfer(_ request: Fulcrum_V1_TransferRequest) async throws(FulcrumError) -> Fulcrum_V1_ScheduleResponse {
        try await call(.transfer, request)
    }

    public func allocate(_ request: Fulcrum_V1_AllocateRequest) async throws(FulcrumError) -> Fulcrum_V1_AllocationResponse {
        try await call(.allocate, request)
    }

    public func allocations(_ request: Fulcrum_V1_AllocationsRequest) async throws(FulcrumError)
        -> Fulcrum_V1_AllocationsResponse
    {
        try await call(.allocations, request)
    }

    public func reconcile(_ request: Fulcrum_V1_ReconcileRequest) async throws(FulcrumError)
        -> Fulcrum_V1_ReconcileResponse
    {
        try await call(.reconcile, request)
    }

    public func setSafetyStock(_ request: Fulcrum_V1_SetSafetyStockRequest) async throws(FulcrumError)
        -> Fulcrum_V1_PositionResponse
    {
        try await call(.setSafetyStock, request)
    }

    public func atp(_ request: Fulcrum_V1_AtpRequest) async throws(FulcrumError) -> Fulcrum_V1_AtpResponse {
        try await call(.atp, request)
    }

    public func atpBatch(_ request: Fulcrum_V1_AtpBatchRequest) async throws(FulcrumError) -> Fulcrum_V1_AtpBatchResponse {
        try await call(.atpBatch, request)
    }

    public func reserve(_ request: Fulcrum_V1_ReserveRequest) async throws(FulcrumError) -> Fulcrum_V1_Reservation {
        try await call(.reserve, request, as: Fulcrum_V1_ReservationResponse.self).reservation
    }

    /// `minPosition`: see `logPosition`.
    public func reservation(order: String, minPosition: UInt64 = 0) async throws(FulcrumError) -> Fulcrum_V1_Reservation {
        try await call(
            .getReservation, Fulcrum_V1_OrderRequest.with {
                $0.order = order
                $0.minPosition = minPosition
            }, as: Fulcrum_V1_ReservationResponse.self
        ).reservation
    }

    public func confirm(order: String, idempotencyKey: String = "") async throws(FulcrumError) -> Fulcrum_V1_Reservation {
        try await transition(.confirm, order, idempotencyKey)
    }

    public func ship(order: String, idempotencyKey: String = "") async throws(FulcrumError) -> Fulcrum_V1_Reservation {
        try await transition(.ship, order, idempotencyKey)
    }

    public func release(order: String, idempotencyKey: String = "") async throws(FulcrumError) -> Fulcrum_V1_Reservation {
        try await transition(.release, order, idempotencyKey)
    }

    public func optimize(_ request: Fulcrum_V1_OptimizeRequest) async throws(FulcrumError) -> Fulcrum_V1_OptimizeResponse {
        try await call(.optimize, request)
    }

    public func optimizeAndReserve(_ request: Fulcrum_V1_OptimizeAndReserveRequest) async throws(FulcrumError)
        -> Fulcrum_V1_OptimizeAndReserveResponse
    {
        try await call(.optimizeAndReserve, request)
    }

    private func transition(_ opcode: Opcode, _ order: String, _ key: String) async throws(FulcrumError)
        -> Fulcrum_V1_Reservation
    {
        let request = Fulcrum_V1_OrderRequest.with {
            $0.order = order
            $0.idempotencyKey = key
        }
        return try await call(opcode, request, as: Fulcrum_V1_ReservationResponse.self).reservation
    }
}
