import Metrics

/// Requests per operation of one protocol (`rpc`, `http`): a counter by
/// outcome and a latency timer, through swift-metrics (the process chooses
/// the backend; fulcrumd exports Prometheus). The handles are made once per
/// operation, so recording costs no lookup.
public final class OperationMetrics: Sendable {
    private struct Handles: Sendable {
        let succeeded: Counter
        let failed: Counter
        let latency: Metrics.Timer
    }

    private let handles: [String: Handles]
    private let unknown: Handles

    public init(protocol name: String, operations: [String]) {
        func make(_ operation: String) -> Handles {
            let dimensions = [("protocol", name), ("operation", operation)]
            return Handles(
                succeeded: Counter(label: "fulcrum_requests_total", dimensions: dimensions + [("outcome", "ok")]),
                failed: Counter(label: "fulcrum_requests_total", dimensions: dimensions + [("outcome", "error")]),
                latency: Metrics.Timer(label: "fulcrum_request_seconds", dimensions: dimensions))
        }
        handles = Dictionary(uniqueKeysWithValues: operations.map { ($0, make($0)) })
        unknown = make("unknown")
    }

    /// One answered request; `nanoseconds` from its arrival (nil: refused before it ran).
    public func record(_ operation: String, failed: Bool, nanoseconds: UInt64?) {
        let handles = self.handles[operation] ?? unknown
        (failed ? handles.failed : handles.succeeded).increment()
        if let nanoseconds { handles.latency.recordNanoseconds(Int64(clamping: nanoseconds)) }
    }
}
