import Foundation
import FulcrumClient
import FulcrumCore
import FulcrumHTTP
import FulcrumWire
import Hummingbird
import Logging

/// An intake shim's HTTP side: `POST /webhook` authenticated and handed to
/// its receiver, which acts through fulcrumd over the binary RPC; the answer
/// says what fulcrumd did. `GET /health` for probes.
///
/// Order intakes answer 202 accepted (`{"event", "order", "sequence"}`); 409
/// `duplicate_id` for a replay (its id was accepted before) or an order that
/// exists; every receiver 401 `bad_signature`; 422 `unmapped_value`; 400 for
/// bad payloads; 503 when fulcrumd cannot take it (the platform retries).
public enum WebhookServer {
    public static let bodyBytesMax = 1 << 20

    public static func start(
        intake: any WebhookReceiver, client: FulcrumClient, host: String, port: Int, clock: any Clock = SystemClock(),
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
    static func handle(_ request: Request, intake: any WebhookReceiver, client: FulcrumClient, clock: any Clock, logger: Logger)
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
            let (json, status) = try await intake.receive(request.headers, body: body, client: client, logger: logger)
            return HTTPErrors.json(json, status: status)
        } catch let error as FulcrumError {
            logger.warning("\(intake.provider): refused: \(error)")
            return HTTPErrors.response(error)
        } catch {
            return HTTPErrors.response(FulcrumError(.unavailable, "\(error)"))
        }
    }
}
