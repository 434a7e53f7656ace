import FulcrumCore
import FulcrumLedger
import FulcrumOrchestration
import FulcrumSolver
import Synchronization

/// Prices each live solve again with greedy nearest-first — what most shops
/// run — on the stock the solve saw, off the journeys' path: solves wait in
/// a bounded queue (past it they are skipped, and counted), a task plans
/// them and adds the costs of the orders both plans ship whole to the
/// insight counters, written once a second. A crash or stop loses at most
/// the last second's pricing; the counters it wrote stay.
final class BaselinePricer: Sendable {
    /// A solve as it was made: the request solved, the stock it saw, its answer, when.
    struct Solve: Sendable {
        var request: OptimizeRequest
        var stock: [Stock]
        var response: OptimizeResponse
        var atMs: Int64
    }

    private enum Job: Sendable {
        case price(Solve)
        /// Write what is priced; resume once written.
        case flush(CheckedContinuation<Void, Never>?)
    }

    private let jobs: AsyncStream<Job>.Continuation
    /// Shared with the task (an atomic cannot be copied into it).
    private final class SkipCount: Sendable { let value = Atomic<Int64>(0) }
    private let skipped = SkipCount()

    /// Holds the ledger weakly, so a service dropped without `close` still closes its ledger.
    init(ledger: Ledger, clock: any Clock) {
        let (stream, jobs) = AsyncStream<Job>.makeStream(bufferingPolicy: .bufferingOldest(Limits.baselineQueueDepthMax))
        self.jobs = jobs
        let skipped = self.skipped
        Task.detached { [skipped, weak ledger] in
            var pending: [Int64: [InsightAddition]] = [:]
            for await job in stream {
                switch job {
                case .price(let solve):
                    if let additions = Self.price(solve) { pending[InsightLevel.minute.bucket(solve.atMs), default: []] += additions }
                case .flush(let done):
                    let skips = skipped.value.exchange(0, ordering: .relaxed)
                    var batch = RecordBatch()
                    for (bucket, additions) in pending {
                        batch.add(insights: additions, atMs: bucket * InsightLevel.minute.milliseconds)
                    }
                    if skips > 0 {
                        batch.add(insights: [InsightAddition(.baselineSkipped, .all, skips)], atMs: clock.now().millisecondsSinceEpoch)
                    }
                    pending = [:]
                    // A closed ledger (stopping) keeps what it had: the pricing is a shadow, never a reason to fail.
                    if !batch.additions.isEmpty { try? await ledger?.write(batch) }
                    done?.resume()
                }
            }
        }
        Task.detached { [jobs] in
            while true {
                try? await Task.sleep(for: .milliseconds(Limits.baselineFlushIntervalMilliseconds))
                if case .terminated = jobs.yield(.flush(nil)) { return }
            }
        }
    }

    /// Queues a solve for pricing; skipped (and counted) when the queue is full.
    func price(_ solve: Solve) {
        if case .dropped = jobs.yield(.price(solve)) { skipped.value.add(1, ordering: .relaxed) }
    }

    /// Waits until every solve queued before this call is priced and written.
    func flush() async {
        await withCheckedContinuation { done in
            if case .terminated = jobs.yield(.flush(done)) { done.resume() }
        }
    }

    /// No more solves: the task ends once the queue is drained.
    func finish() { jobs.finish() }

    deinit { jobs.finish() }

    /// The baseline counters of one solve: orders that both the solver's plan
    /// and nearest-first's ship whole, with both costs, for everything and the
    /// request's channel. Nil when nearest-first cannot plan the request.
    static func price(_ solve: Solve) -> [InsightAddition]? {
        guard
            let greedy = try? Optimizer.solve(
                solve.request, availability: solve.stock, options: OptimizeOptions(strategy: .greedyNearest))
        else { return nil }
        let greedyPlans = Dictionary(greedy.plans.map { ($0.order, $0) }, uniquingKeysWith: { first, _ in first })
        var orders: Int64 = 0
        var cost: Int64 = 0
        var nearestFirst: Int64 = 0
        for plan in solve.response.plans {
            guard let other = greedyPlans[plan.order], Self.shipsWhole(plan), Self.shipsWhole(other) else { continue }
            orders += 1
            cost += Int64((plan.cost * 1e6).rounded())
            nearestFirst += Int64((other.cost * 1e6).rounded())
        }
        guard orders > 0 else { return [] }
        return [InsightDimension.all, .channel(solve.request.channel ?? "")].flatMap { dimension in
            [
                InsightAddition(.baselineOrders, dimension, orders), InsightAddition(.baselineCostMicros, dimension, cost),
                InsightAddition(.nearestFirstCostMicros, dimension, nearestFirst),
            ]
        }
    }

    private static func shipsWhole(_ plan: OptimizeResponse.Plan) -> Bool { plan.backorders.allSatisfy { $0.quantity == 0 } }
}
