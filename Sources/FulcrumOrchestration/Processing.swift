import FulcrumCore
import FulcrumLedger
import FulcrumSolver

/// What one step decided: all of it is written in one transaction, or none.
struct StepOutcome {
    var order: OrderRecord
    var command: LedgerCommand?
    var entries: [TimelineEntry] = []
    var outbox: [OutboxMessage] = []
    var outputs: [BusinessEvent] = []
    /// Raised instead of the step's success events (an order backordered or preordered; with them for a shipment group).
    var events: [String]?
    /// Raised beside them, each with its own fields: lines that began or ended waiting for stock.
    var lineEvents: [(name: String, fields: [String: String])] = []
    var backorder: BackorderChange?
    /// The reservation the step made, and the solver's cost of its plan: what the insights count.
    var reserved: [ReservationLine] = []
    var plannedCost: Double?
}

/// The timeline entries a step writes, stamped with one time.
struct TimelineLog {
    let atMs: Int64
    let step: String?
    var entries: [TimelineEntry] = []

    mutating func add(_ kind: TimelineEntry.Kind, _ entity: String, _ text: String, code: String? = nil) {
        entries.append(
            TimelineEntry(atMs: atMs, entity: entity, kind: kind, step: step, text: text, code: code))
    }
}

extension Orchestrator {
    /// Runs every step listening to the event that has not run yet, each
    /// committed on its own (so a crash between two steps resumes at the second).
    func apply(_ queued: QueuedEvent) async throws(FulcrumError) {
        let event = queued.event
        guard var order = try load(event.order) else {
            var batch = RecordBatch()
            batch.delete(RecordKeys.queued(queued.sequence))
            try await backend.write(batch)
            return
        }
        if event.name == BusinessEvent.providerAcknowledged || event.name == BusinessEvent.providerDeadLettered {
            try await applyAcknowledgement(queued, order: order)
            return
        }
        let listening: [(index: Int, step: Step)]
        if event.name == BusinessEvent.reprocess || event.name == BusinessEvent.stockArrived {
            listening = book.steps.enumerated().filter { $0.element.id == event.fields["step"] }.map { ($0.offset, $0.element) }
        } else {
            listening = book.steps(listeningTo: event.name)
        }
        let remaining = listening.filter { !queued.completedSteps.contains($0.step.id) }
        guard !remaining.isEmpty else {
            var batch = RecordBatch()
            if listening.isEmpty {
                var log = TimelineLog(atMs: options.clock.now().millisecondsSinceEpoch, step: nil)
                log.add(.event, "order:\(order.id)", "no step listens to \(event.name)")
                batch.put(RecordKeys.timeline(order.id, sequence: queued.sequence, slot: 1, item: 0), RecordCoding.encode(log.entries[0]))
            }
            batch.delete(RecordKeys.queued(queued.sequence))
            try await backend.write(batch)
            return
        }
        var progress = queued
        for (position, (index, step)) in remaining.enumerated() {
            let slot = UInt16(index + 1)
            let last = position == remaining.count - 1
            var attempt = 1
            while true {
                let outcome = await run(step, slot: slot, order: order, queued: progress, attempt: attempt)
                do {
                    try await commit(outcome, from: order, queued: &progress, step: step, slot: slot, last: last)
                    order = outcome.order
                    break
                } catch where error.code == .insufficientStock && attempt < options.sourcingAttemptsMax {
                    attempt += 1
                } catch where Self.isClientError(error) {
                    var failure = error
                    if error.code == .insufficientStock {
                        failure = FulcrumError(
                            .planConflict,
                            "concurrent changes took the planned stock on all \(options.sourcingAttemptsMax) attempts",
                            path: "order:\(order.id)")
                    }
                    var log = TimelineLog(atMs: options.clock.now().millisecondsSinceEpoch, step: step.id)
                    let failed = failed(step, order: Self.clearingReprocess(order, event: progress.event), error: failure, log: &log, event: progress.event)
                    try await commit(failed, from: order, queued: &progress, step: step, slot: slot, last: last)
                    order = failed.order
                    break
                }
            }
        }
    }

    /// Errors that are the request's fault: recorded on the order. Others
    /// (overload, storage) leave the event queued to run again.
    static func isClientError(_ error: FulcrumError) -> Bool {
        ![.overloaded, .unavailable, .storage, .corrupt].contains(error.code)
    }

    /// Writes a step's outcome, its output events, the insight counters of
    /// the change from `before`, and the event's progress in one transaction
    /// (with the step's ledger command when it has one).
    private func commit(
        _ outcome: StepOutcome, from before: OrderRecord, queued: inout QueuedEvent, step: Step, slot: UInt16, last: Bool
    ) async throws(FulcrumError) {
        var batch = RecordBatch()
        let order = outcome.order.id
        batch.put(RecordKeys.order(order), RecordCoding.encode(outcome.order))
        batch.add(
            insights: InsightCounting.changed(
                from: before, to: outcome.order, reserved: outcome.reserved, plannedCost: outcome.plannedCost,
                atMs: outcome.order.updatedMs),
            atMs: outcome.order.updatedMs)
        for (index, entry) in outcome.entries.enumerated() {
            batch.put(
                RecordKeys.timeline(order, sequence: queued.sequence, slot: slot, item: UInt16(clamping: index)),
                RecordCoding.encode(entry))
        }
        for message in outcome.outbox {
            batch.put(RecordKeys.outbox(message.provider, message.id), RecordCoding.encode(message))
        }
        switch outcome.backorder {
        case .queue(let backorder)?: batch.put(RecordKeys.backorder(order), RecordCoding.encode(backorder))
        case .remove(let order)?: batch.delete(RecordKeys.backorder(order))
        case nil: break
        }
        let raised = raise(outcome.outputs, into: &batch)
        var progress = queued
        progress.completedSteps.append(step.id)
        if last {
            batch.delete(RecordKeys.queued(queued.sequence))
        } else {
            batch.put(RecordKeys.queued(queued.sequence), RecordCoding.encode(progress))
        }
        if let command = outcome.command {
            _ = try await backend.execute(command, attaching: batch)
        } else {
            try await backend.write(batch)
        }
        queued = progress
        for event in raised { enqueue(event) }
    }

    /// Numbers and stores events a step raises (each with its timeline entry); they are queued once committed.
    func raise(_ events: [BusinessEvent], into batch: inout RecordBatch) -> [QueuedEvent] {
        events.map { event in
            let queued = QueuedEvent(sequence: allocateSequence(), event: event)
            batch.put(RecordKeys.queued(queued.sequence), RecordCoding.encode(queued))
            let entry = TimelineEntry(
                atMs: event.atMs, entity: "order:\(event.order)", kind: .event, step: nil,
                text: Self.describe(event), code: nil)
            batch.put(RecordKeys.timeline(event.order, sequence: queued.sequence, slot: 0, item: 0), RecordCoding.encode(entry))
            return queued
        }
    }

    static func clearingReprocess(_ order: OrderRecord, event: BusinessEvent) -> OrderRecord {
        guard event.name == BusinessEvent.reprocess else { return order }
        var cleared = order
        cleared.failure = nil
        return cleared
    }

    /// Decides one step: filter, policies, transition, action. Writes nothing.
    func run(_ step: Step, slot: UInt16, order: OrderRecord, queued: QueuedEvent, attempt: Int) async -> StepOutcome {
        let event = queued.event
        let now = options.clock.now().millisecondsSinceEpoch
        var log = TimelineLog(atMs: now, step: step.id)
        let entity = "order:\(order.id)"
        if event.name == BusinessEvent.reprocess, let failure = order.failure {
            log.add(.reprocess, entity, "resuming at step \(step.id) (failed at \(failure.step): \(failure.message))")
        }
        let start = Self.clearingReprocess(order, event: event)
        if let filter = step.filter {
            guard filter.holds({ OrderFields.value($0, of: start, event: event.name, fields: event.fields) }) else {
                log.add(.filter, entity, "skipped: filter \(filter) does not match")
                return StepOutcome(order: start, entries: log.entries)
            }
            log.add(.filter, entity, "filter \(filter) matches")
        }
        if case .some(let action) = step.action, let misfit = misfit(event, for: action, order: start) {
            // A follow-up that does not fit the order is recorded as rejected; the journey goes on as it was.
            log.add(.rejected, entity, "\(event.name) rejected: \(misfit.message) (\(misfit.path))", code: misfit.code.rawValue)
            return StepOutcome(order: start, entries: log.entries)
        }
        var outcome = StepOutcome(order: start)
        do throws(FulcrumError) {
            for policy in step.policies {
                let holds = policy.when.holds { OrderFields.value($0, of: outcome.order, event: event.name, fields: event.fields) }
                guard holds else {
                    log.add(.policy, entity, "policy \(policy.id) does not apply (\(policy.when))")
                    continue
                }
                switch policy.effect {
                case .fail(let message):
                    throw FulcrumError(.policyFailed, message, path: "policy:\(policy.id)")
                case .set(let values):
                    let sorted = values.sorted { $0.key < $1.key }
                    for (field, value) in sorted { Self.set(field, value, on: &outcome.order) }
                    log.add(.policy, entity, "policy \(policy.id) sets " + sorted.map { "\($0.key) = \($0.value)" }.joined(separator: ", "))
                }
            }
            if let transition = step.transition {
                try move(.order, order.id, &outcome.order.state, to: transition, log: &log)
            }
            var waiting = false
            if let action = step.action {
                waiting = try await perform(action, step: step, slot: slot, queued: queued, outcome: &outcome, log: &log, attempt: attempt)
            }
            if !waiting {
                outcome.outputs = (outcome.events ?? step.successEvents).map {
                    BusinessEvent(name: $0, order: order.id, fields: event.fields, source: "step:\(step.id)", atMs: now)
                } + outcome.lineEvents.map {
                    BusinessEvent(name: $0.name, order: order.id, fields: $0.fields, source: "step:\(step.id)", atMs: now)
                }
            }
            outcome.order.updatedMs = now
            outcome.entries = log.entries
            return outcome
        } catch {
            return failed(step, order: start, error: error, log: &log, event: event)
        }
    }

    /// The step failed: only the failure, its timeline and the failure events
    /// are written; transitions it logged were not applied, so they are dropped.
    func failed(_ step: Step, order: OrderRecord, error: FulcrumError, log: inout TimelineLog, event: BusinessEvent)
        -> StepOutcome
    {
        log.entries.removeAll { $0.kind == .transition }
        log.add(.error, "order:\(order.id)", "step \(step.id) failed: \(error.message)" + (error.path.isEmpty ? "" : " (\(error.path))"), code: error.code.rawValue)
        var failedOrder = order
        failedOrder.failure = OrderRecord.Failure(
            step: step.id, code: error.code.rawValue, message: error.message, resumeStep: step.resumeOnError,
            atMs: log.atMs)
        failedOrder.updatedMs = log.atMs
        let outputs = step.failureEvents.map {
            BusinessEvent(
                name: $0, order: order.id, fields: event.fields.merging(["error": error.code.rawValue]) { $1 },
                source: "step:\(step.id)", atMs: log.atMs)
        }
        return StepOutcome(order: failedOrder, entries: log.entries, outputs: outputs)
    }

    /// Moves an entity's state after the state framework allows it, and records the transition.
    func move(_ kind: EntityKind, _ id: String, _ state: inout String, to target: String, log: inout TimelineLog)
        throws(FulcrumError)
    {
        guard state != target else { return }
        try book.states.check(kind, id, from: state, to: target)
        log.add(.transition, "\(kind.rawValue):\(id)", "\(state) → \(target)")
        state = target
    }

    static func set(_ field: String, _ value: ConditionValue, on order: inout OrderRecord) {
        switch (field, value) {
        case ("source_node", .string(let node)): order.sourceNode = node
        case ("source_kind", .string(let kind)): order.sourceKind = kind
        case ("profile", .string(let profile)): order.profile = profile
        case ("channel", .string(let channel)): order.channel = channel
        case ("ship_complete", .bool(let flag)): order.shipComplete = flag
        case ("max_shipments", .number(let count)): order.maxShipments = Int(count)
        case ("priority", .number(let priority)): order.priority = priority
        case (_, .string(let text)) where field.hasPrefix("attributes."):
            order.attributes[String(field.dropFirst("attributes.".count))] = text
        default: preconditionFailure("the journey decoder only admits settable fields with values of their type")
        }
    }
}
