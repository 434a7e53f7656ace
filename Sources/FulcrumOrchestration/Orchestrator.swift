import Foundation
import FulcrumCore
import FulcrumLedger
import FulcrumSolver
import Synchronization

/// The narrow port the orchestrator needs from the service around it:
/// durable record writes (alone, or atomically with a ledger command), record
/// reads, the network, and solving against the ledger's stock.
public protocol FulfillmentBackend: Sendable {
    /// Commits a record batch alone (its guards checked); durable on return.
    func write(_ records: RecordBatch) async throws(FulcrumError)
    /// Runs a ledger command and writes `records` in the same transaction, or neither.
    func execute(_ command: LedgerCommand, attaching records: RecordBatch) async throws(FulcrumError) -> LedgerResult
    /// One stored record.
    func record(_ key: [UInt8]) throws(FulcrumError) -> [UInt8]?
    /// Records under `prefix` in key order after `after` (descending with `reverse`), at most `limit`.
    func records(prefix: [UInt8], after: [UInt8]?, limit: Int, reverse: Bool) throws(FulcrumError)
        -> [(key: [UInt8], value: [UInt8])]
    /// The network's nodes as they stand now (closed ones disabled, daily
    /// capacity what is left today).
    func networkNodes() throws(FulcrumError) -> [Node]
    /// Where an address without coordinates is (the gazetteer), or nil.
    func place(_ address: Address) -> Placement?
    /// Solves a live order (or a window of them) against the ledger's stock;
    /// the service may also price the solve against a baseline for its insights.
    func source(_ request: OptimizeRequest, options: OptimizeOptions) throws(FulcrumError) -> OptimizeResponse
    /// A plan's shipped units as reservation lines.
    func reservationLines(_ plan: OptimizeResponse.Plan, order: Order) -> [ReservationLine]
    /// Units of `sku` available to promise now, at every node together.
    func available(sku: String) throws(FulcrumError) -> Int64
    /// Scheduled receipts of `sku` with units not yet promised, earliest due first.
    func openReceipts(sku: String) throws(FulcrumError) -> [ScheduledReceipt]
    /// The scheduled receipt `receipt`, or nil once received.
    func receipt(_ receipt: String) throws(FulcrumError) -> ScheduledReceipt?
    /// The ledger's reservation for `order`, in any state, or nil.
    func reservation(order: String) throws(FulcrumError) -> Reservation?
    /// The fulfillment profile `name` names (nil: `default`).
    func profile(_ name: String?) throws(FulcrumError) -> FulfillmentProfile
}

extension FulfillmentBackend {
    /// Records under `prefix` in key order after `after`, at most `limit`.
    func records(prefix: [UInt8], after: [UInt8]? = nil, limit: Int) throws(FulcrumError) -> [(key: [UInt8], value: [UInt8])] {
        try records(prefix: prefix, after: after, limit: limit, reverse: false)
    }
}

/// Runs journeys: accepts business events durably, then applies every step
/// listening to each event, one event at a time per order (orders in
/// parallel, up to a bound).
///
/// Exactly once per step: a step's effect — its ledger command, the order's
/// new state, its timeline, the events it raises, and the record that the
/// step ran — is one write transaction of the ledger's writer. A crash
/// before it leaves nothing applied (the step runs again after restart);
/// after it, the step is never run again.
public final class Orchestrator: Sendable {
    public struct Options: Sendable {
        public var clock: any Clock = SystemClock()
        /// Orders whose events are processed at once.
        public var ordersInFlightMax = 256
        /// Accepted events not yet processed before `submit` answers `overloaded`.
        public var eventsQueuedMax = 100_000
        /// How long a journey's reservation holds before it is released to fulfillment.
        public var reservationTTLSeconds: Int64 = 7 * 24 * 3600
        /// Solves a step makes when concurrent changes take its planned stock.
        public var sourcingAttemptsMax = Limits.optimizeReserveAttemptsMax
        /// How often backordered orders are looked at for stock that arrived; nil: only when `releaseBackorders` is called.
        public var backorderSweepIntervalMilliseconds: Int? = Limits.backorderSweepIntervalMilliseconds
        public init() {}
    }

    /// An accepted event's number, and whether its idempotency key had been seen.
    public typealias Submission = EventSubmission

    public let book: JourneyBook
    let backend: any FulfillmentBackend
    let options: Options
    let batcher: Batcher
    private let dispatch = Mutex(Dispatch())
    private let nextSequence: Atomic<UInt64>
    private let sequenceEnd: UInt64

    /// Sequence numbers are handed out from a block reserved at start
    /// (stored before any is used), so none is reused after a restart.
    static let sequenceBlock: UInt64 = 1 << 32
    static let sequenceKey: [UInt8] = Array("m/sequence".utf8)

    /// Opens the orchestrator over the backend's ledger and resumes every
    /// event accepted but not finished before the last stop.
    public init(backend: any FulfillmentBackend, book: JourneyBook, options: Options = Options()) async throws(FulcrumError) {
        precondition(options.ordersInFlightMax >= 1 && options.eventsQueuedMax >= 1 && options.sourcingAttemptsMax >= 1)
        self.backend = backend
        self.book = book
        self.options = options
        batcher = Batcher()
        let stored = try backend.record(Self.sequenceKey).map { bytes in bytes.reduce(UInt64(0)) { $0 << 8 | UInt64($1) } } ?? 0
        var block = RecordBatch()
        block.put(Self.sequenceKey, RecordKeys.bigEndian(stored + Self.sequenceBlock))
        try await backend.write(block)
        nextSequence = Atomic(stored + 1)
        sequenceEnd = stored + Self.sequenceBlock
        var pending: [QueuedEvent] = []
        var after: [UInt8]?
        while true {
            let page = try backend.records(prefix: [RecordKeys.queue], after: after, limit: 1_000, reverse: false)
            for (key, value) in page {
                precondition(RecordKeys.sequence(ofQueued: key) != nil, "queue keys are a kind byte and a sequence")
                pending.append(try RecordCoding.decode(QueuedEvent.self, value, what: "queued event"))
            }
            guard let last = page.last else { break }
            after = last.key
        }
        for queued in pending { enqueue(queued) }
        if let interval = options.backorderSweepIntervalMilliseconds { sweepBackorders(intervalMilliseconds: interval) }
    }

    func allocateSequence() -> UInt64 {
        let sequence = nextSequence.wrappingAdd(1, ordering: .relaxed).oldValue
        precondition(sequence < sequenceEnd, "more than 2^32 events in one run")
        return sequence
    }

    // MARK: Accepting events

    /// Accepts an event: validated, then stored durably before this returns.
    /// An `order.created` stores the order; any other event needs its order
    /// to exist. A repeated idempotency key answers the first acceptance.
    public func submit(_ event: BusinessEvent, idempotencyKey: String? = nil) async throws(FulcrumError) -> Submission {
        var event = event
        try validate(event)
        if let idempotencyKey {
            try Names.validateText(
                idempotencyKey, path: "idempotency_key", bytesMax: Limits.idempotencyKeyBytesMax, allowEmpty: false)
            if let sequence = try storedSequence(idempotencyKey) { return Submission(sequence: sequence, duplicate: true) }
        }
        let now = options.clock.now()
        event.atMs = now.millisecondsSinceEpoch
        var batch = RecordBatch()
        if event.name == BusinessEvent.orderCreated {
            let order = OrderRecord(event.intake!, at: now)
            batch.expectAbsent(RecordKeys.order(order.id))
            batch.put(RecordKeys.order(order.id), RecordCoding.encode(order))
            batch.add(insights: InsightCounting.created(order), atMs: order.createdMs)
        } else if try load(event.order) == nil {
            throw FulcrumError(.notFound, "no order \(event.order)", path: "order")
        }
        try reserveQueueSpace()
        let sequence = allocateSequence()
        if let idempotencyKey {
            batch.expectAbsent(RecordKeys.idempotency(idempotencyKey))
            batch.put(RecordKeys.idempotency(idempotencyKey), RecordKeys.bigEndian(sequence))
        }
        let queued = QueuedEvent(sequence: sequence, event: event)
        batch.put(RecordKeys.queued(sequence), RecordCoding.encode(queued))
        let received = TimelineEntry(
            atMs: now.millisecondsSinceEpoch, entity: "order:\(event.order)", kind: .event, step: nil,
            text: Self.describe(event), code: nil)
        batch.put(RecordKeys.timeline(event.order, sequence: sequence, slot: 0, item: 0), RecordCoding.encode(received))
        do {
            try await backend.write(batch)
        } catch FulcrumError.Code.recordConflict {
            releaseQueueSpace()
            if let idempotencyKey, let sequence = try storedSequence(idempotencyKey) {
                return Submission(sequence: sequence, duplicate: true)
            }
            throw FulcrumError(.duplicateID, "order \(event.order) already exists", path: "order.id")
        } catch {
            releaseQueueSpace()
            throw error
        }
        enqueue(queued, counted: true)
        return Submission(sequence: sequence, duplicate: false)
    }

    static func describe(_ event: BusinessEvent) -> String {
        var text = "\(event.name) from \(event.source)"
        if let intake = event.intake {
            text += ": \(intake.lines.count) lines, \(intake.lines.reduce(0) { $0 + $1.quantity }) units"
        }
        let fields = event.fields.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        if !fields.isEmpty { text += " (" + fields.joined(separator: ", ") + ")" }
        return text
    }

    private func validate(_ event: BusinessEvent) throws(FulcrumError) {
        guard JourneyBook.isEventName(event.name) else {
            throw FulcrumError(.invalidArgument, "'\(event.name)' is not an event name (such as order.created)", path: "event")
        }
        guard !event.name.hasPrefix("provider."),
            ![BusinessEvent.reprocess, BusinessEvent.stockArrived, BusinessEvent.preorderRescheduled].contains(event.name)
        else {
            throw FulcrumError(.invalidArgument, "\(event.name) is raised by fulcrumd itself", path: "event")
        }
        try Names.validate(event.order, path: "order")
        try Names.validate(event.source, path: "source")
        guard event.fields.count <= 32 else {
            throw FulcrumError(.invalidArgument, "an event has at most 32 fields", path: "fields")
        }
        for (key, value) in event.fields {
            try Names.validate(key, path: "fields")
            try Names.validateText(value, path: "fields.\(key)", bytesMax: Limits.reasonBytesMax, allowEmpty: true)
        }
        if event.name == BusinessEvent.orderCreated {
            guard let intake = event.intake else {
                throw FulcrumError(.invalidArgument, "order.created carries the order", path: "order")
            }
            try intake.validate()
            guard intake.id == event.order else {
                throw FulcrumError(.invalidArgument, "the event's order is \(event.order), the order's id \(intake.id)", path: "order.id")
            }
            if let node = intake.pickupNode, !(try backend.networkNodes()).contains(where: { $0.id == node }) {
                throw FulcrumError(.unknownReference, "no node \(node) in the server's network", path: "order.pickup_node")
            }
        } else if event.intake != nil {
            throw FulcrumError(.invalidArgument, "only order.created carries an order", path: "order")
        }
        if let lines = event.returnLines {
            guard !lines.isEmpty, lines.count <= Limits.reservationLinesMax else {
                throw FulcrumError(.invalidArgument, "a return has 1 to \(Limits.reservationLinesMax) lines", path: "return_lines")
            }
            for (index, line) in lines.enumerated() {
                try Names.validate(line.sku, path: "return_lines[\(index)].sku")
                try Names.validateQuantity(line.quantity, path: "return_lines[\(index)].quantity")
            }
        }
    }

    private func storedSequence(_ idempotencyKey: String) throws(FulcrumError) -> UInt64? {
        try backend.record(RecordKeys.idempotency(idempotencyKey)).map {
            $0.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        }
    }

    // MARK: Reads

    /// The stored order, or nil.
    public func load(_ order: String) throws(FulcrumError) -> OrderRecord? { try reads.load(order) }

    /// The stored order and its bytes as stored (what a conditional write expects).
    func loadStored(_ order: String) throws(FulcrumError) -> (order: OrderRecord, bytes: [UInt8])? {
        try reads.loadStored(order)
    }

    /// The order's timeline, oldest first, at most `limit` entries.
    public func timeline(_ order: String, limit: Int = 1_000) throws(FulcrumError) -> [TimelineEntry] {
        try reads.timeline(order, limit: limit)
    }

    /// Orders in id order after `after`, at most `limit`.
    public func orders(after: String? = nil, limit: Int) throws(FulcrumError) -> [OrderRecord] {
        try reads.orders(after: after, limit: limit)
    }

    var reads: JourneyReads { JourneyReads(backend: backend) }

    /// Events accepted and not yet processed.
    public var eventsQueued: Int { dispatch.withLock { $0.queued } }

    /// Waits until no event is queued or being processed (tests, benchmarks, drains).
    public func waitUntilIdle(timeoutMilliseconds: Int) async -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(timeoutMilliseconds)
        while ContinuousClock.now < deadline {
            if dispatch.withLock({ $0.queued == 0 && $0.workers == 0 }) { return true }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return false
    }

    // MARK: Dispatch

    /// Per-order queues in memory (the durable copy is the `q` records).
    struct Dispatch {
        var queues: [String: [QueuedEvent]] = [:]
        var running = Set<String>()
        var ready: [String] = []
        var readyStart = 0
        var workers = 0
        var queued = 0
        var reserved = 0
    }

    private func reserveQueueSpace() throws(FulcrumError) {
        let accepted = dispatch.withLock { state in
            guard state.queued + state.reserved < options.eventsQueuedMax else { return false }
            state.reserved += 1
            return true
        }
        guard accepted else {
            throw FulcrumError(.overloaded, "\(options.eventsQueuedMax) events are waiting to be processed")
        }
    }

    private func releaseQueueSpace() {
        dispatch.withLock { $0.reserved -= 1 }
    }

    /// Queues an event for its order; starts a worker when one is free.
    func enqueue(_ queued: QueuedEvent, counted: Bool = false) {
        let order = queued.event.order
        let start: Bool = dispatch.withLock { state in
            if counted { state.reserved -= 1 }
            state.queued += 1
            state.queues[order, default: []].append(queued)
            guard state.running.insert(order).inserted else { return false }
            if state.workers < options.ordersInFlightMax {
                state.workers += 1
                return true
            }
            state.ready.append(order)
            return false
        }
        if start { Task { await work(startingWith: order) } }
    }

    /// Processes one order's events until its queue is empty, then takes the
    /// next order waiting for a worker.
    private func work(startingWith first: String) async {
        var order = first
        while true {
            while let queued = nextEvent(of: order) {
                await process(queued)
                dispatch.withLock { $0.queued -= 1 }
            }
            let next: String? = dispatch.withLock { state in
                guard state.readyStart < state.ready.count else {
                    state.ready.removeAll(keepingCapacity: true)
                    state.readyStart = 0
                    state.workers -= 1
                    return nil
                }
                state.readyStart += 1
                return state.ready[state.readyStart - 1]
            }
            guard let next else { return }
            order = next
        }
    }

    private func nextEvent(of order: String) -> QueuedEvent? {
        dispatch.withLock { state in
            guard var queue = state.queues[order], !queue.isEmpty else {
                state.queues[order] = nil
                state.running.remove(order)
                return nil
            }
            let first = queue.removeFirst()
            state.queues[order] = queue
            return first
        }
    }

    /// Applies an event, retrying while the ledger is overloaded. A storage
    /// failure leaves the event queued on disk: it runs again after restart.
    private func process(_ queued: QueuedEvent) async {
        var delayMilliseconds = 5
        while true {
            do {
                try await apply(queued)
                return
            } catch where error.code == .overloaded {
                try? await Task.sleep(for: .milliseconds(delayMilliseconds))
                delayMilliseconds = min(delayMilliseconds * 2, 1_000)
            } catch {
                return
            }
        }
    }
}

/// Orders and timelines as the journeys stored them, read without an
/// orchestrator: what a cluster's follower serves from its own ledger.
public struct JourneyReads {
    let backend: any FulfillmentBackend

    public init(backend: any FulfillmentBackend) { self.backend = backend }

    public func load(_ order: String) throws(FulcrumError) -> OrderRecord? { try loadStored(order)?.order }

    /// The stored order and its bytes as stored (what a conditional write expects).
    func loadStored(_ order: String) throws(FulcrumError) -> (order: OrderRecord, bytes: [UInt8])? {
        try Names.validate(order, path: "order")
        guard let bytes = try backend.record(RecordKeys.order(order)) else { return nil }
        return (try RecordCoding.decode(OrderRecord.self, bytes, what: "order \(order)"), bytes)
    }

    /// The order's timeline, oldest first, at most `limit` entries.
    public func timeline(_ order: String, limit: Int = 1_000) throws(FulcrumError) -> [TimelineEntry] {
        try Names.validate(order, path: "order")
        return try backend.records(prefix: RecordKeys.timelinePrefix(order), limit: limit).map {
            (record) throws(FulcrumError) in try RecordCoding.decode(TimelineEntry.self, record.value, what: "timeline")
        }
    }

    /// Dead letters of every provider, counted up to `max`.
    public func deadLetterCount(max: Int) throws(FulcrumError) -> Int {
        try backend.records(prefix: [RecordKeys.deadLetter], limit: max).count
    }

    /// Orders in the backorder queue, counted up to `max`.
    public func backorderCount(max: Int) throws(FulcrumError) -> Int {
        try backend.records(prefix: [RecordKeys.backorder], limit: max).count
    }

    /// Orders in id order after `after`, at most `limit`.
    public func orders(after: String? = nil, limit: Int) throws(FulcrumError) -> [OrderRecord] {
        if let after { try Names.validate(after, path: "after") }
        return try backend.records(
            prefix: [RecordKeys.order], after: after.map(RecordKeys.order), limit: limit
        ).map { (record) throws(FulcrumError) in try RecordCoding.decode(OrderRecord.self, record.value, what: "order") }
    }
}
