import Foundation
import FulcrumClient
import FulcrumCore
import FulcrumHTTP
import FulcrumWire
import Hummingbird
import Logging

/// An intake shim's HTTP side: `POST /webhook` authenticated, translated into
/// a business event and submitted to fulcrumd over the binary RPC; the
/// answer says what fulcrumd did. `GET /health` for probes.
///
/// Answers: 202 accepted (`{"event", "order", "sequence"}`); 409
/// `duplicate_id` for a replay (its id was accepted before) or an order that
/// exists; 401 `bad_signature`; 422 `unmapped_value`; 400 for bad payloads;
/// 503 when fulcrumd cannot take it (the platform retries).
public enum WebhookServer {
    public static let bodyBytesMax = 1 << 20

    public static func start(
        intake: any WebhookIntake, client: FulcrumClient, host: String, port: Int, clock: any Clock = SystemClock(),
        logger: Logger
    ) async throws(FulcrumError) -> HTTPListener {
        let router = Router()
        router.get("/health") { _, _ in HTTPErrors.json(.object(["ok": .bool(true)])) }
        router.post("/webhook") { request, _ in
            await handle(request, intake: intake, client: client, clock: clock, logger: logger)
        }
        return try await HTTPListener.start(
            router: router, host: host, port: port, serverName: "fulcrum-shim-\(intake.provider)", path: "listen", logger: logger)
    }

    @inline(never)
    static func handle(_ request: Request, intake: any WebhookIntake, client: FulcrumClient, clock: any Clock, logger: Logger)
        async -> Response
    {
        do {
            let buffer: ByteBuffer
            do {
                buffer = try await request.body.collect(upTo: bodyBytesMax)
            } catch {
                throw FulcrumError(.payloadTooLarge, "the body is over \(bodyBytesMax) bytes", path: "body")
            }
            let body = Data(buffer.readableBytesView)
            try intake.authenticate(request.headers, body: body, now: clock.now())
            let key = try intake.idempotencyKey(request.headers, body: body)
            var event = try intake.event(request.headers, body: body)
            event.idempotencyKey = key
            let answer = try await client.call(.submitEvent, event, as: Fulcrum_V1_SubmitEventResponse.self)
            if answer.duplicate {
                throw FulcrumError(.duplicateID, "this webhook (\(key)) was already received", path: "idempotency_key")
            }
            logger.info("\(intake.provider): \(event.event) for \(event.order) accepted as event \(answer.sequence)")
            return HTTPErrors.json(
                .orderedObject([
                    ("event", .string(event.event)), ("order", .string(event.order)), ("sequence", .integer(Int64(answer.sequence))),
                ]), status: .accepted)
        } catch let error as FulcrumError {
            logger.warning("\(intake.provider): refused: \(error)")
            return HTTPErrors.response(error)
        } catch {
            return HTTPErrors.response(FulcrumError(.unavailable, "\(error)"))
        }
    }
}
