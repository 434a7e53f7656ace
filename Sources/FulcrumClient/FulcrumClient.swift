import FulcrumCore
import FulcrumWire
import NIOCore
import NIOPosix
import SwiftProtobuf

/// An async client of fulcrumd's binary protocol over one TCP connection.
///
/// Safe to share between tasks: calls from many tasks are pipelined on the
/// connection and answered by request id. Every failure is a `FulcrumError`:
/// the server's typed errors as sent, connection failures as `unavailable`.
public final class FulcrumClient: Sendable {
    private let channel: any Channel
    private let refusal: ConnectionRefusal

    private init(channel: any Channel, refusal: ConnectionRefusal) {
        self.channel = channel
        self.refusal = refusal
    }

    /// Connects to `host:port` and says Hello (with `token` when the server needs one).
    public static func connect(
        host: String, port: Int, token: String? = nil, client: String = "fulcrum-swift",
        payloadBytesMax: Int = Limits.framePayloadBytesMax
    ) async throws(FulcrumError) -> FulcrumClient {
        let refusal = ConnectionRefusal()
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.addHandler(ByteToMessageHandler(FrameDecoder(payloadBytesMax: payloadBytesMax)))
                    try pipeline.addHandler(MessageToByteHandler(FrameEncoder()))
                    try pipeline.addHandler(ClientHandler(refusal: refusal))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: host, port: port).get()
        } catch {
            throw FulcrumError(.unavailable, "cannot connect to \(host):\(port): \(error)", path: "server")
        }
        let connection = FulcrumClient(channel: channel, refusal: refusal)
        do {
            _ = try await connection.hello(.with {
                $0.token = token ?? ""
                $0.client = client
            })
        } catch {
            await connection.close()
            throw error
        }
        return connection
    }

    /// Connects to "host:port".
    public static func connect(_ address: String, token: String? = nil) async throws(FulcrumError) -> FulcrumClient {
        let (host, port) = try ServerAddress.parse(address)
        return try await connect(host: host, port: port, token: token)
    }

    public func close() async {
        try? await channel.close()
    }

    /// Sends one request and waits for its answer's payload.
    public func call(_ opcode: Opcode, payload: ByteBuffer) async throws(FulcrumError) -> ByteBuffer {
        do {
            return try await send([(opcode, payload)])[0].get()
        } catch {
            throw Self.fulcrumError(error)
        }
    }

    /// Sends many requests with one flush and waits for all their answers,
    /// in the order sent (the server may answer them in any order).
    public func pipeline(_ requests: [(opcode: Opcode, payload: ByteBuffer)]) async -> [Result<ByteBuffer, FulcrumError>] {
        let futures = send(requests)
        // One wait for the whole window instead of one suspension per answer.
        let results = try! await EventLoopFuture.whenAllComplete(futures, on: channel.eventLoop).get()  // never fails
        return results.map { $0.mapError(Self.fulcrumError) }
    }

    /// Sends a message and decodes the answer as `Response`.
    public func call<Response: SwiftProtobuf.Message>(
        _ opcode: Opcode, _ request: some SwiftProtobuf.Message, as: Response.Type = Response.self
    ) async throws(FulcrumError) -> Response {
        try Response(payload: try await call(opcode, payload: request.payload()))
    }

    /// Writes `requests` and flushes, in one hop to the channel's event
    /// loop; the futures are their answers. When the writes fail (the
    /// connection closed), the answers fail too, so nobody waits for a
    /// request that never left; an answer already given stays as it was.
    private func send(_ requests: [(opcode: Opcode, payload: ByteBuffer)]) -> [EventLoopFuture<ByteBuffer>] {
        guard !requests.isEmpty else { return [] }
        let loop = channel.eventLoop
        let answers = requests.map { _ in loop.makePromise(of: ByteBuffer.self) }
        let written = loop.makePromise(of: Void.self)
        written.futureResult.whenFailure { [refusal] error in
            let failure = refusal.error ?? FulcrumError(.unavailable, "the request was not sent: \(error)")
            for answer in answers { answer.fail(failure) }
        }
        loop.execute { [channel] in
            for (index, request) in requests.enumerated() {
                let call = PendingCall(opcode: request.opcode, payload: request.payload, promise: answers[index])
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

    public func reservation(order: String) async throws(FulcrumError) -> Fulcrum_V1_Reservation {
        try await call(.getReservation, Fulcrum_V1_OrderRequest.with { $0.order = order }, as: Fulcrum_V1_ReservationResponse.self)
            .reservation
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
