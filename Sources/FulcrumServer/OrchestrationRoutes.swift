import Foundation
import FulcrumCore
import FulcrumService
import FulcrumWire
import NIOCore
import SwiftProtobuf

/// The journeys' operations (opcodes 50–56). Reads answer on the event
/// loop; writes answer once durable, from a task.
struct OrchestrationRoutes: Sendable {
    let service: Service

    func route(_ frame: Frame, _ responder: Responder, caller: Caller) throws(FulcrumError) {
        let service = self.service
        switch frame.opcode {
        case .submitEvent:
            let request = try Fulcrum_V1_SubmitEventRequest(payload: frame.payload)
            let event = BusinessEvent(request)
            let key = request.idempotencyKey.isEmpty ? nil : request.idempotencyKey
            answer(responder) { () throws(FulcrumError) in
                let submission = try await service.submit(event, idempotencyKey: key)
                return Fulcrum_V1_SubmitEventResponse.with {
                    $0.sequence = submission.sequence
                    $0.duplicate = submission.duplicate
                }
            }
        case .getOrder:
            let request = try Fulcrum_V1_GetOrderRequest(payload: frame.payload)
            guard let order = try service.order(request.order) else {
                throw FulcrumError(.notFound, "no order \(request.order)", path: "order")
            }
            let limit = request.timelineLimit == 0 ? Limits.timelineEntriesDefault : Int(min(Int(request.timelineLimit), Limits.timelineEntriesMax))
            let timeline = try service.timeline(order: request.order, limit: limit)
            responder.succeed(Fulcrum_V1_GetOrderResponse.with {
                $0.order = .init(order)
                $0.timeline = timeline.map(Fulcrum_V1_TimelineEntry.init)
            })
        case .reprocess:
            let request = try Fulcrum_V1_ReprocessRequest(payload: frame.payload)
            let source = request.source.isEmpty ? "rpc" : request.source
            answer(responder) { () throws(FulcrumError) in
                let sequence = try await service.reprocess(order: request.order, source: source)
                return Fulcrum_V1_ReprocessResponse.with { $0.sequence = sequence }
            }
        case .pullOutbox:
            let request = try Fulcrum_V1_PullOutboxRequest(payload: frame.payload)
            let limit = request.limit == 0 ? Limits.pageItemsDefault : min(Int(request.limit), Limits.pageItemsMax)
            let messages = try service.outbox(
                provider: request.provider, after: request.after.isEmpty ? nil : request.after, limit: limit)
            responder.succeed(Fulcrum_V1_PullOutboxResponse.with { $0.messages = messages.map(Fulcrum_V1_OutboxMessage.init) })
        case .acknowledge:
            let request = try Fulcrum_V1_AcknowledgeRequest(payload: frame.payload)
            answer(responder) { () throws(FulcrumError) in
                let applied = try await service.acknowledge(
                    provider: request.provider, message: request.message, delivered: request.delivered, reason: request.reason)
                return Fulcrum_V1_AcknowledgeResponse.with { $0.applied = applied }
            }
        case .deadLetters:
            let request = try Fulcrum_V1_DeadLettersRequest(payload: frame.payload)
            let limit = request.limit == 0 ? Limits.pageItemsDefault : min(Int(request.limit), Limits.pageItemsMax)
            let letters = try service.deadLetters(provider: request.provider, limit: limit)
            responder.succeed(Fulcrum_V1_DeadLettersResponse.with {
                $0.letters = letters.map { letter in
                    .with {
                        $0.message = .init(letter.message)
                        $0.reason = letter.reason
                        $0.atMs = letter.atMs
                    }
                }
            })
        case .backorders:
            let request = try Fulcrum_V1_BackordersRequest(payload: frame.payload)
            let limit = request.limit == 0 ? Limits.pageItemsDefault : min(Int(request.limit), Limits.pageItemsMax)
            let backorders = try service.backorders(limit: limit)
            responder.succeed(Fulcrum_V1_BackordersResponse.with {
                $0.backorders = backorders.map { backorder in
                    .with {
                        $0.order = backorder.order
                        $0.step = backorder.step
                        $0.priority = backorder.priority
                        $0.sinceMs = backorder.sinceMs
                        $0.shortages = backorder.shortages
                        $0.onShortage = backorder.onShortage.rawValue
                    }
                }
            })
        case .insights:
            let request = try Fulcrum_V1_InsightsRequest(payload: frame.payload)
            let text = request.window.isEmpty ? InsightWindow.day.rawValue : request.window
            guard let window = InsightWindow(rawValue: text) else {
                throw FulcrumError(.invalidArgument, "'\(text)' is not a window (hour, day, week or month)", path: "window")
            }
            let report = try service.insights(
                window: window,
                stuckAfterSeconds: request.stuckAfterS == 0 ? Limits.insightStuckAfterSecondsDefault : request.stuckAfterS)
            responder.succeed(Fulcrum_V1_InsightsResponse(report))
        case .replayDeadLetter:
            let request = try Fulcrum_V1_ReplayDeadLetterRequest(payload: frame.payload)
            let source = request.source.isEmpty ? "rpc" : request.source
            answer(responder) { () throws(FulcrumError) in
                let sequence = try await service.replayDeadLetter(
                    provider: request.provider, message: request.message, source: source, caller: caller)
                return Fulcrum_V1_ReprocessResponse.with { $0.sequence = sequence }
            }
        default:
            preconditionFailure("the router sends only orchestration opcodes here")
        }
    }

    /// Runs a write off the event loop and answers when it is durable.
    private func answer<Response: SwiftProtobuf.Message & Sendable>(
        _ responder: Responder, _ body: @escaping @Sendable () async throws(FulcrumError) -> Response
    ) {
        Task {
            do throws(FulcrumError) {
                responder.succeed(try await body())
            } catch {
                responder.fail(error)
            }
        }
    }
}
