import Foundation
import FulcrumCore
import FulcrumService
import Synchronization

/// What a replay drives: the real ledger and solver, in this process
/// (`EmbeddedEngine`) or in a running fulcrumd (the CLI's remote engine).
/// Calls come one at a time, in simulated-time order.
public protocol ReplayEngine: AnyObject, Sendable {
    /// Simulated time moves to `time` (never backwards).
    func advance(to time: Timestamp) async throws(FulcrumError)
    /// Sets on hand and safety stock of each position (a stock count).
    func setStock(_ positions: [StockPlan.Position]) async throws(FulcrumError)
    func available(node: String, sku: String) async throws(FulcrumError) -> Int64
    /// Ships units between nodes: in transit, due at the destination, as the ledger's `transfer`.
    func transfer(_ request: TransferRequest) async throws(FulcrumError)
    func schedule(_ receipt: ScheduledReceipt) async throws(FulcrumError)
    /// Moves on hand by a number of units (a stock adjustment).
    func adjust(_ request: AdjustRequest) async throws(FulcrumError)
    func receive(receipt: String) async throws(FulcrumError)
    /// Solves against the ledger's available-to-promise (the request has no
    /// inventory); one plan per order, in request order.
    func optimize(_ request: OptimizeRequest, options: OptimizeOptions) async throws(FulcrumError)
        -> [OptimizeResponse.Plan]
    func reserve(_ request: ReserveRequest) async throws(FulcrumError)
    func confirm(order: String) async throws(FulcrumError)
    func ship(order: String) async throws(FulcrumError)
    /// The reservations of `orders` reached their time to live at the current
    /// time: they end, and their units are available again.
    func expire(orders: [String]) async throws(FulcrumError)
}

/// A fresh ledger in a temporary directory, not synced to disk (a replay
/// needs no durability), with a simulated clock: the engine of
/// `fulcrum replay` without `--server`.
public final class EmbeddedEngine: ReplayEngine {
    public let service: Service
    private let clock: ManualClock
    private let directory: String

    public init(start: Timestamp) throws(FulcrumError) {
        let template = FileManager.default.temporaryDirectory.appendingPathComponent("fulcrum-replay-XXXXXX").path
        var bytes = Array(template.utf8CString)
        guard let made = mkdtemp(&bytes) else {
            throw FulcrumError(.storage, "cannot create a temporary directory: errno \(errno)", path: template)
        }
        directory = String(cString: made)
        clock = ManualClock(start)
        var options = LedgerOptions()
        options.durable = false
        options.clock = clock
        options.expirySweepIntervalMilliseconds = nil
        service = try Service.open(directory: directory, ledgerOptions: options)
    }

    deinit {
        service.close()
        try? FileManager.default.removeItem(atPath: directory)
    }

    public func advance(to time: Timestamp) async throws(FulcrumError) {
        let delta = time.millisecondsSinceEpoch - clock.now().millisecondsSinceEpoch
        precondition(delta >= 0, "simulated time never goes back")
        clock.advance(milliseconds: delta)
    }

    public func setStock(_ positions: [StockPlan.Position]) async throws(FulcrumError) {
        // Bounded windows: the writer's queue is bounded too.
        for window in stride(from: 0, to: positions.count, by: 1024) {
            let slice = positions[window..<min(window + 1024, positions.count)]
            var commands: [LedgerCommand] = []
            for position in slice {
                commands.append(.adjust(AdjustRequest(node: position.node, sku: position.sku, change: .set(Int64(position.onHand)), reason: "scenario start")))
                if position.safetyStock > 0 {
                    commands.append(.setSafetyStock(SetSafetyStockRequest(node: position.node, sku: position.sku, quantity: Int64(position.safetyStock))))
                }
            }
            try await executeAll(commands)
        }
    }

    /// Queues every command in order, then waits for all of them.
    private func executeAll(_ commands: [LedgerCommand]) async throws(FulcrumError) {
        guard !commands.isEmpty else { return }
        let service = service
        let failure: FulcrumError? = await withCheckedContinuation { continuation in
            let pending = Mutex((remaining: commands.count, failure: FulcrumError?.none))
            for command in commands {
                service.submit(command) { result in
                    let done = pending.withLock { state -> (Bool, FulcrumError?) in
                        state.remaining -= 1
                        if case .failure(let error) = result, state.failure == nil { state.failure = error }
                        return (state.remaining == 0, state.failure)
                    }
                    if done.0 { continuation.resume(returning: done.1) }
                }
            }
        }
        if let failure { throw failure }
    }

    public func available(node: String, sku: String) async throws(FulcrumError) -> Int64 {
        try service.position(node: node, sku: sku).available
    }

    public func transfer(_ request: TransferRequest) async throws(FulcrumError) {
        _ = try await service.transfer(request)
    }

    public func schedule(_ receipt: ScheduledReceipt) async throws(FulcrumError) {
        _ = try await service.schedule(ScheduleRequest(receipt))
    }

    public func receive(receipt: String) async throws(FulcrumError) {
        _ = try await service.receive(ReceiveRequest(receipt: receipt))
    }

    public func adjust(_ request: AdjustRequest) async throws(FulcrumError) {
        _ = try await service.adjust(request)
    }

    public func optimize(_ request: OptimizeRequest, options: OptimizeOptions) async throws(FulcrumError)
        -> [OptimizeResponse.Plan]
    {
        try service.optimize(request, options: options).plans
    }

    public func reserve(_ request: ReserveRequest) async throws(FulcrumError) {
        _ = try await service.reserve(request)
    }

    public func confirm(order: String) async throws(FulcrumError) {
        _ = try await service.confirm(order: order)
    }

    public func ship(order: String) async throws(FulcrumError) {
        _ = try await service.ship(order: order)
    }

    public func expire(orders: [String]) async throws(FulcrumError) {
        // The ledger's own expiry, by its (simulated) clock: the orders due
        // must be exactly those the replay expects.
        var expired = Set<String>()
        while true {
            let batch = try await service.expireDue()
            if batch.isEmpty { break }
            expired.formUnion(batch)
        }
        guard expired == Set(orders) else {
            throw FulcrumError(
                .corrupt, "the ledger expired \(expired.sorted()) where the replay expected \(orders.sorted())",
                path: directory)
        }
    }

    /// Refolds the replay's ledger entries and compares with its balances.
    public func verify() throws(FulcrumError) -> VerificationReport {
        try service.verify()
    }
}
