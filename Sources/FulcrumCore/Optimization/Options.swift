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
/// `given` says which the caller chose; a fulfillment profile supplies the others.
public struct OptimizeOptions: Sendable {
    public struct Fields: OptionSet, Sendable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let strategy = Fields(rawValue: 1 << 0)
        public static let timeLimit = Fields(rawValue: 1 << 1)
    }
    public var strategy: Strategy = .optimal { didSet { given.insert(.strategy) } }
    public var timeLimitMilliseconds = Limits.solveTimeLimitMsDefault { didSet { given.insert(.timeLimit) } }
    /// Add, per order, why each unused node was not chosen.
    public var explain = false
    public private(set) var given: Fields = []

    /// Nil takes the profile's, or the default (observers do not run in an
    /// initializer: `given` is set here).
    public init(strategy: Strategy? = nil, timeLimitMilliseconds: Int? = nil, explain: Bool = false) {
        if let strategy {
            self.strategy = strategy
            given.insert(.strategy)
        }
        if let timeLimitMilliseconds {
            self.timeLimitMilliseconds = timeLimitMilliseconds
            given.insert(.timeLimit)
        }
        self.explain = explain
    }

    /// Options as a front end receives them (flags, query parameters,
    /// RPC fields), checked the same way everywhere: nil takes the
    /// profile's, or the default.
    public init(strategy: String?, timeLimitMs: Int?, explain: Bool) throws(FulcrumError) {
        var parsed: Strategy?
        if let strategy {
            guard let known = Strategy(rawValue: strategy) else {
                let known = Strategy.allCases.map(\.rawValue).joined(separator: ", ")
                throw FulcrumError(.invalidArgument, "unknown strategy '\(strategy)'; one of \(known)", path: "strategy")
            }
            parsed = known
        }
        if let timeLimitMs, !(1...Limits.solveTimeLimitMsMax).contains(timeLimitMs) {
            throw FulcrumError(
                .invalidArgument, "\(timeLimitMs) ms is not within 1...\(Limits.solveTimeLimitMsMax)", path: "time_limit_ms")
        }
        self.init(strategy: parsed, timeLimitMilliseconds: timeLimitMs, explain: explain)
    }
}
