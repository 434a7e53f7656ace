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
        let answer = send(opcode, payload)
        channel.flush()
        return try await Self.answer(answer)
    }

    /// Sends many requests with one flush and waits for all their answers,
    /// in the order sent (the server may answer them in any order).
    public func pipeline(_ requests: [(opcode: Opcode, payload: ByteBuffer)]) async -> [Result<ByteBuffer, FulcrumError>] {
        let futures = requests.map { send($0.opcode, $0.payload) }
        channel.flush()
        var results: [Result<ByteBuffer, FulcrumError>] = []
        results.reserveCapacity(futures.count)
        for future in futures {
            do {
                results.append(.success(try await Self.answer(future)))
            } catch {
                results.append(.failure(error))
            }
        }
        return results
    }

    /// Sends a message and decodes the answer as `Response`.
    public func call<Response: SwiftProtobuf.Message>(
        _ opcode: Opcode, _ request: some SwiftProtobuf.Message, as: Response.Type = Response.self
    ) async throws(FulcrumError) -> Response {
        try Response(payload: try await call(opcode, payload: request.payload()))
    }

    /// Writes one request (without flushing); the future is its answer. A
    /// write that fails (the connection closed) fails the answer too, so
    /// nobody waits for a request that never left.
    private func send(_ opcode: Opcode, _ payload: ByteBuffer) -> EventLoopFuture<ByteBuffer> {
        let answer = channel.eventLoop.makePromise(of: ByteBuffer.self)
        let written = channel.eventLoop.makePromise(of: Void.self)
        written.futureResult.whenFailure { [refusal] error in
            answer.fail(refusal.error ?? FulcrumError(.unavailable, "the request was not sent: \(error)"))
        }
        channel.write(PendingCall(opcode: opcode, payload: payload, promise: answer), promise: written)
        return answer.futureResult
    }

    private static func answer(_ future: EventLoopFuture<ByteBuffer>) async throws(FulcrumError) -> ByteBuffer {
        do {
            return try await future.get()
        } catch let error as FulcrumError {
            throw error
        } catch {
            throw FulcrumError(.unavailable, "\(error)")
        }
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
