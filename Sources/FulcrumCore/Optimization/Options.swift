import Foundation

/// How to choose the nodes that fill each order.
public enum Strategy: String, Sendable, CaseIterable {
    /// The MIP of optimize v2, solved to proven optimality (or to the time limit).
    case optimal
    /// Fixed node priority: the request's node order, like Magento MSI.
    case greedyPriority = "greedy-priority"
    /// Nearest node with stock first, splitting as needed.
    case greedyNearest = "greedy-nearest"
}

/// How a solve runs: the strategy, its time limit, and whether to explain.
public struct OptimizeOptions: Sendable {
    public var strategy: Strategy = .optimal
    public var timeLimitMilliseconds = Limits.solveTimeLimitMsDefault
    /// Add, per order, why each unused node was not chosen.
    public var explain = false
    public init(
        strategy: Strategy = .optimal, timeLimitMilliseconds: Int = Limits.solveTimeLimitMsDefault,
        explain: Bool = false
    ) {
        self.strategy = strategy
        self.timeLimitMilliseconds = timeLimitMilliseconds
        self.explain = explain
    }

    /// Options as a front end receives them (flags, query parameters,
    /// RPC fields), checked the same way everywhere: nil takes the default.
    public init(strategy: String?, timeLimitMs: Int?, explain: Bool) throws(FulcrumError) {
        self.init(explain: explain)
        if let strategy {
            guard let parsed = Strategy(rawValue: strategy) else {
                let known = Strategy.allCases.map(\.rawValue).joined(separator: ", ")
                throw FulcrumError(.invalidArgument, "unknown strategy '\(strategy)'; one of \(known)", path: "strategy")
            }
            self.strategy = parsed
        }
        if let timeLimitMs {
            guard (1...Limits.solveTimeLimitMsMax).contains(timeLimitMs) else {
                throw FulcrumError(
                    .invalidArgument, "\(timeLimitMs) ms is not within 1...\(Limits.solveTimeLimitMsMax)",
                    path: "time_limit_ms")
            }
            self.timeLimitMilliseconds = timeLimitMs
        }
    }
}
