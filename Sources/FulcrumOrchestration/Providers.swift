import FulcrumCore
import FulcrumLedger
import FulcrumSolver
import Synchronization

extension Orchestrator {
    /// Messages waiting for `provider`, oldest first, after message `after`.
    public func outbox(provider: String, after: String? = nil, limit: Int) throws(FulcrumError) -> [OutboxMessage] {
        try Names.validate(provider, path: "provider")
        return try backend.records(
            prefix: RecordKeys.outboxPrefix(provider), after: after.map { RecordKeys.outbox(provider, $0) }, limit: limit
        ).map { (record) throws(FulcrumError) in try RecordCoding.decode(OutboxMessage.self, record.value, what: "outbox message") }
    }

    /// Messages `provider` gave up on, oldest first.
    public func deadLetters(provider: String, limit: Int) throws(FulcrumError) -> [DeadLetter] {
        try Names.validate(provider, path: "provider")
        return try backend.records(prefix: RecordKeys.deadLetterPrefix(provider), limit: limit).map {
            (record) throws(FulcrumError) in try RecordCoding.decode(DeadLetter.self, record.value, what: "dead letter")
        }
    }

    /// A shim delivered a message (`delivered`) or gave up on it after its
    /// retries (kept as a dead letter). Either way it leaves the outbox, and
    /// the order's waiting step learns of it. Acknowledging a message no
    /// longer in the outbox changes nothing (a shim's retry after a crash).
    public func acknowledge(provider: String, message: String, delivered: Bool, reason: String = "")
        async throws(FulcrumError) -> Bool
    {
        try Names.validate(message, path: "message")
        try Names.validateText(reason, path: "reason", bytesMax: Limits.reasonBytesMax, allowEmpty: true)
        let key = RecordKeys.outbox(provider, message)
        try Names.validate(provider, path: "provider")
        guard let bytes = try backend.record(key) else { return false }
        let stored = try RecordCoding.decode(OutboxMessage.self, bytes, what: "outbox message")
        let now = options.clock.now().millisecondsSinceEpoch
        var batch = RecordBatch()
        batch.expect(key, equals: bytes)
        batch.delete(key)
        if !delivered {
            batch.put(
                RecordKeys.deadLetter(provider, message),
                RecordCoding.encode(DeadLetter(message: stored, reason: reason, atMs: now)))
        }
        var fields = ["provider": provider, "message": message]
        fields["fulfillment_order"] = stored.fulfillmentOrder
        if !reason.isEmpty { fields["reason"] = reason }
        let event = BusinessEvent(
            name: delivered ? BusinessEvent.providerAcknowledged : BusinessEvent.providerDeadLettered, order: stored.order,
            fields: fields, source: provider, atMs: now)
        batch.add(insights: InsightCounting.answered(provider: provider, delivered: delivered), atMs: now)
        // A message of no order (an alert) has no journey to tell.
        let raised = stored.order.isEmpty ? [] : raise([event], into: &batch)
        do {
            try await backend.write(batch)
        } catch FulcrumError.Code.recordConflict {
            return false
        }
        for queued in raised { enqueue(queued) }
        return true
    }

    /// Resumes a failed journey at its failed step's `resume_on_error` step.
    /// With `deadLetter`, also removes that dead letter (its replay): the
    /// message sent again for the same provider, topic and fulfillment order
    /// keeps the letter's id, so a receiver that drops repeats by
    /// `X-Fulcrum-Message-Id` still sees each message once.
    public func reprocess(order id: String, source: String, deadLetter: OutboxMessage? = nil)
        async throws(FulcrumError) -> UInt64
    {
        guard let (order, stored) = try loadStored(id) else { throw FulcrumError(.notFound, "no order \(id)", path: "order") }
        guard let failure = order.failure else {
            throw FulcrumError(.invalidArgument, "order \(id) has no failed step to resume", path: "order")
        }
        guard let resume = failure.resumeStep else {
            throw FulcrumError(.invalidArgument, "step \(failure.step) has no resume_on_error step", path: "order")
        }
        var batch = RecordBatch()
        batch.expect(RecordKeys.order(id), equals: stored)
        var fields = ["step": resume]
        if let deadLetter {
            batch.delete(RecordKeys.deadLetter(deadLetter.provider, deadLetter.id))
            fields[ReplayedMessage.idField] = deadLetter.id
            fields[ReplayedMessage.providerField] = deadLetter.provider
            fields[ReplayedMessage.topicField] = deadLetter.topic
            fields[ReplayedMessage.fulfillmentOrderField] = deadLetter.fulfillmentOrder ?? ""
        }
        let event = BusinessEvent(
            name: BusinessEvent.reprocess, order: id, fields: fields, source: source,
            atMs: options.clock.now().millisecondsSinceEpoch)
        let raised = raise([event], into: &batch)
        do {
            try await backend.write(batch)
        } catch FulcrumError.Code.recordConflict {
            throw FulcrumError(.recordConflict, "order \(id) changed while reprocessing; try again", path: "order")
        }
        for queued in raised { enqueue(queued) }
        return raised[0].sequence
    }

    /// Replays a dead letter: its order's journey resumes (sending again what is still unsent).
    public func replayDeadLetter(provider: String, message: String, source: String) async throws(FulcrumError) -> UInt64 {
        try Names.validate(provider, path: "provider")
        try Names.validate(message, path: "message")
        guard let bytes = try backend.record(RecordKeys.deadLetter(provider, message)) else {
            throw FulcrumError(.notFound, "no dead letter \(message) for \(provider)", path: "message")
        }
        let letter = try RecordCoding.decode(DeadLetter.self, bytes, what: "dead letter")
        return try await reprocess(order: letter.message.order, source: source, deadLetter: letter.message)
    }

    /// A provider's answer reaches the order: a delivered fulfillment order is
    /// `sent`; the waiting step succeeds once all its messages are delivered,
    /// and fails at the first dead letter.
    func applyAcknowledgement(_ queued: QueuedEvent, order: OrderRecord) async throws(FulcrumError) {
        let event = queued.event
        let delivered = event.name == BusinessEvent.providerAcknowledged
        let message = event.fields["message"] ?? ""
        let waitingIndex = order.waiting.firstIndex { $0.messages.contains(message) }
        var log = TimelineLog(
            atMs: options.clock.now().millisecondsSinceEpoch, step: waitingIndex.map { order.waiting[$0].step })
        var updated = order
        let provider = event.fields["provider"] ?? ""
        var outputs: [BusinessEvent] = []
        log.add(.provider, "order:\(order.id)", delivered ? "\(provider) took message \(message)" : "\(provider) gave up on message \(message): \(event.fields["reason"] ?? "")")
        if delivered, let outbound = event.fields["fulfillment_order"],
            let index = updated.fulfillmentOrders.firstIndex(where: { $0.id == outbound }),
            updated.fulfillmentOrders[index].state == FulfillmentOrderStates.created
        {
            try move(.fulfillmentOrder, outbound, &updated.fulfillmentOrders[index].state, to: FulfillmentOrderStates.sent, log: &log)
        }
        if let waitingIndex, let step = book.step(order.waiting[waitingIndex].step) {
            var waiting = updated.waiting.remove(at: waitingIndex)
            waiting.messages.removeAll { $0 == message }
            if !delivered {
                let error = FulcrumError(.deliveryFailed, "\(provider) could not deliver message \(message): \(event.fields["reason"] ?? "")")
                let failed = failed(step, order: updated, error: error, log: &log, event: BusinessEvent(name: event.name, order: order.id, fields: waiting.fields, source: provider))
                updated = failed.order
                outputs = failed.outputs
            } else if waiting.messages.isEmpty {
                if case .sendToProvider(_, .refund) = step.action, let returnID = waiting.fields["return"],
                    let index = updated.returns.firstIndex(where: { $0.id == "\(order.id)/\(returnID)" })
                {
                    try move(.returnOrder, updated.returns[index].id, &updated.returns[index].state, to: ReturnStates.refunded, log: &log)
                }
                outputs = step.successEvents.map {
                    BusinessEvent(name: $0, order: order.id, fields: waiting.fields, source: "step:\(step.id)", atMs: log.atMs)
                }
            } else {
                updated.waiting.insert(waiting, at: waitingIndex)
            }
        }
        updated.updatedMs = log.atMs
        var batch = RecordBatch()
        batch.put(RecordKeys.order(order.id), RecordCoding.encode(updated))
        batch.add(insights: InsightCounting.changed(from: order, to: updated, reserved: [], plannedCost: nil, atMs: log.atMs), atMs: log.atMs)
        for (index, entry) in log.entries.enumerated() {
            batch.put(RecordKeys.timeline(order.id, sequence: queued.sequence, slot: 1, item: UInt16(clamping: index)), RecordCoding.encode(entry))
        }
        let raised = raise(outputs, into: &batch)
        batch.delete(RecordKeys.queued(queued.sequence))
        try await backend.write(batch)
        for event in raised { enqueue(event) }
    }
}

/// Gathers the orders that reach a batched step within its window and
/// solves them together; each order then reserves its own plan.
final class Batcher: Sendable {
    typealias Solve = @Sendable ([Order], [Node]) throws(FulcrumError) -> OptimizeResponse

    private struct Waiting {
        var order: Order
        var nodes: [Node]
        var continuation: CheckedContinuation<Result<OptimizeResponse.Plan, FulcrumError>, Never>
    }

    private struct Window {
        var generation: UInt64
        var waiting: [Waiting] = []
    }

    private struct State {
        var windows: [String: Window] = [:]
        var generation: UInt64 = 0
    }

    private let state = Mutex(State())

    func plan(_ order: Order, nodes: [Node], step: String, window: BatchWindow, solve: @escaping Solve)
        async throws(FulcrumError) -> OptimizeResponse.Plan
    {
        let result = await withCheckedContinuation { continuation in
            let (full, timer): ([Waiting]?, UInt64?) = state.withLock { state in
                var timer: UInt64?
                if state.windows[step] == nil {
                    state.generation += 1
                    state.windows[step] = Window(generation: state.generation)
                    timer = state.generation
                }
                state.windows[step]!.waiting.append(Waiting(order: order, nodes: nodes, continuation: continuation))
                guard state.windows[step]!.waiting.count >= window.ordersMax else { return (nil, timer) }
                return (state.windows.removeValue(forKey: step)!.waiting, timer)
            }
            if let full { Task { Self.solve(full, solve) } }
            if let generation = timer {
                Task {
                    try? await Task.sleep(for: .milliseconds(window.windowMilliseconds))
                    let due: [Waiting]? = self.state.withLock { state in
                        guard state.windows[step]?.generation == generation else { return nil }
                        return state.windows.removeValue(forKey: step)!.waiting
                    }
                    if let due { Self.solve(due, solve) }
                }
            }
        }
        return try result.get()
    }

    /// One solve per set of allowed nodes; every order gets its plan or the error.
    private static func solve(_ waiting: [Waiting], _ solve: Solve) {
        let groups = Dictionary(grouping: waiting) { $0.nodes.map(\.id).joined(separator: ",") }
        for group in groups.values {
            let result: Result<[String: OptimizeResponse.Plan], FulcrumError>
            do throws(FulcrumError) {
                let response = try solve(group.map(\.order), group[0].nodes)
                result = .success(Dictionary(response.plans.map { ($0.order, $0) }, uniquingKeysWith: { first, _ in first }))
            } catch {
                result = .failure(error)
            }
            for item in group {
                item.continuation.resume(returning: result.map { $0[item.order.id]! })
            }
        }
    }
}
