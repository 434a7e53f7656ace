import FulcrumCore
import FulcrumSolver
import Synchronization

/// One solve the service made: what it was asked, the stock it saw, and the
/// answer, kept so an operator can ask later why each order went where it did.
public struct SolverDecision: Sendable {
    public var id: UInt64
    public var at: Timestamp
    public var strategy: Strategy
    public var request: OptimizeRequest
    public var stock: [Stock]
    public var response: OptimizeResponse

    /// The same solve again with `explain`: for each order, why each unused
    /// node was not chosen (deterministic: the same request and stock).
    public func explained(timeLimitMilliseconds: Int = Limits.solveTimeLimitMsDefault) throws(FulcrumError)
        -> [OrderExplanation]
    {
        var request = self.request
        request.inventory = nil
        let options = OptimizeOptions(strategy: strategy, timeLimitMilliseconds: timeLimitMilliseconds, explain: true)
        return try Optimizer.solve(request, availability: stock, options: options).explanations ?? []
    }
}

/// The most recent solves, newest last, at most `capacity` (older ones drop off).
final class DecisionLog: Sendable {
    private let capacity: Int
    private let state = Mutex<(next: UInt64, decisions: [SolverDecision])>((1, []))

    init(capacity: Int) {
        precondition(capacity > 0)
        self.capacity = capacity
    }

    func record(at: Timestamp, strategy: Strategy, request: OptimizeRequest, stock: [Stock], response: OptimizeResponse) {
        state.withLock { state in
            state.decisions.append(
                SolverDecision(id: state.next, at: at, strategy: strategy, request: request, stock: stock, response: response))
            state.next += 1
            if state.decisions.count > capacity { state.decisions.removeFirst(state.decisions.count - capacity) }
        }
    }

    var recent: [SolverDecision] { state.withLock { $0.decisions } }
}
