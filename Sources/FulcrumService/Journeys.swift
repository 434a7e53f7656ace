import FulcrumCore
import FulcrumOrchestration

/// A checked journey file (or the standard journeys), ready to start.
public struct Journeys: Sendable {
    let book: JourneyBook

    /// The journeys of the file at `path`, or the standard ones when nil;
    /// a bad file is `invalid_journey` at FILE:LINE:COLUMN and field.
    public static func load(file path: String?) throws(FulcrumError) -> Journeys {
        Journeys(book: try path.map { path throws(FulcrumError) in try JourneyBook.load(path: path) } ?? JourneyBook.standard())
    }
}

/// Orders and their journeys through the service: business events in,
/// orders, timelines, provider outboxes and dead letters out. The
/// orchestrator runs over this service's ledger (through its port) once
/// `startJourneys` has been called; before that these answer `unavailable`.
extension Service {
    /// Starts `journeys`, resuming every event accepted but not finished
    /// before the last stop. Call it once.
    /// A replica of a cluster runs them while it leads (its orchestrator's
    /// records travel in the log with their ledger commands).
    public func startJourneys(_ journeys: Journeys) async throws(FulcrumError) {
        try Self.check(journeys.book, against: profiles)
        let first = journeyBook.withLock { book in
            defer { book = journeys.book }
            return book == nil
        }
        precondition(first, "the journeys were started twice")
        if case .follower = ledger.role { return }
        try await runJourneys()
    }

    /// Starts an orchestrator over the ledger as it is now: it resumes what
    /// was accepted and not finished, under whichever leader accepted it.
    func runJourneys() async throws(FulcrumError) {
        guard let book = journeyBook.withLock({ $0 }) else { return }
        let orchestrator = try await Orchestrator(backend: self, book: book)
        let first = orchestration.withLock { running in
            defer { if running == nil { running = orchestrator } }
            return running == nil
        }
        if first { keepInsights() }
    }

    /// While this service lives: evaluates the alert rules every
    /// `alertEvaluationIntervalMilliseconds`, and every
    /// `insightRollUpIntervalMilliseconds` rolls the insight counters up and
    /// scores the hours that ended for anomalies (a pass that finds a
    /// watermark or an alert moved by another changes nothing).
    private func keepInsights() {
        Task.detached { [weak self] in
            var lastRollUp = ContinuousClock.now - .milliseconds(Limits.insightRollUpIntervalMilliseconds)
            while self != nil {
                if ContinuousClock.now - lastRollUp >= .milliseconds(Limits.insightRollUpIntervalMilliseconds) {
                    lastRollUp = ContinuousClock.now
                    try? await self?.rollUpInsights()
                    try? await self?.detectAnomalies()
                }
                _ = try? await self?.evaluateAlerts()
                try? await Task.sleep(for: .milliseconds(Limits.alertEvaluationIntervalMilliseconds))
            }
        }
    }

    private func orchestrator(_ path: String) throws(FulcrumError) -> Orchestrator {
        guard let orchestrator = orchestration.withLock({ $0 }) else {
            if case .follower(let leader) = ledger.role, journeyBook.withLock({ $0 != nil }) {
                throw FulcrumError(
                    .notLeader, "journeys run on the cluster's leader" + (leader.map { ", at \($0)" } ?? ", and none is known yet"),
                    path: leader ?? "")
            }
            throw FulcrumError(.unavailable, "this server runs no journeys", path: path)
        }
        return orchestrator
    }

    /// Accepts a business event durably; it is processed after this returns.
    public func submit(_ event: BusinessEvent, idempotencyKey: String? = nil) async throws(FulcrumError) -> EventSubmission {
        try await orchestrator("event").submit(event, idempotencyKey: idempotencyKey)
    }

    /// One order as the journeys keep it, or nil. A cluster's follower reads its own ledger.
    public func order(_ id: String) throws(FulcrumError) -> OrderRecord? {
        try journeyReads().load(id)
    }

    /// Orders in id order after `after`, at most `limit`.
    public func orders(after: String? = nil, limit: Int) throws(FulcrumError) -> [OrderRecord] {
        try journeyReads().orders(after: after, limit: limit)
    }

    /// An order's timeline, oldest first, at most `limit` entries.
    public func timeline(order: String, limit: Int) throws(FulcrumError) -> [TimelineEntry] {
        try journeyReads().timeline(order, limit: limit)
    }

    /// Reads of the journeys' records: a replica that runs no orchestrator (a follower) serves them too.
    private func journeyReads() throws(FulcrumError) -> JourneyReads {
        guard journeyBook.withLock({ $0 != nil }) else {
            throw FulcrumError(.unavailable, "this server runs no journeys", path: "order")
        }
        return JourneyReads(backend: self)
    }

    /// Orders waiting whole for stock, in queue order (first come first served within priority), at most `limit`.
    public func backorders(limit: Int) throws(FulcrumError) -> [Backorder] {
        try journeyReads().backorders(limit: limit)
    }

    /// Resumes a failed journey at its step's `resume_on_error`; returns the event's number.
    public func reprocess(order: String, source: String) async throws(FulcrumError) -> UInt64 {
        try await orchestrator("order").reprocess(order: order, source: source)
    }

    /// A provider's waiting messages after `after`, at most `limit`.
    public func outbox(provider: String, after: String? = nil, limit: Int) throws(FulcrumError) -> [OutboxMessage] {
        try orchestrator("provider").outbox(provider: provider, after: after, limit: limit)
    }

    /// A provider's answer for one message: delivered, or given up (a dead letter). False if already answered.
    public func acknowledge(provider: String, message: String, delivered: Bool, reason: String = "")
        async throws(FulcrumError) -> Bool
    {
        try await orchestrator("provider").acknowledge(provider: provider, message: message, delivered: delivered, reason: reason)
    }

    /// A provider's dead letters, at most `limit`.
    public func deadLetters(provider: String, limit: Int) throws(FulcrumError) -> [DeadLetter] {
        try orchestrator("provider").deadLetters(provider: provider, limit: limit)
    }

    /// Sends a dead letter's message again and resumes its order; returns
    /// the event's number. An admin action: the audit trail records `caller`.
    public func replayDeadLetter(provider: String, message: String, source: String, caller: Caller) async throws(FulcrumError)
        -> UInt64
    {
        let sequence = try await orchestrator("provider").replayDeadLetter(provider: provider, message: message, source: source)
        try await recordAudit(
            operation: "replay_dead_letter", subject: "\(provider)/\(message)", detail: "event \(sequence)", caller: caller)
        return sequence
    }

    /// Accepted events not yet processed (0 without journeys).
    public var eventsQueued: Int { orchestration.withLock { $0?.eventsQueued ?? 0 } }
}
