#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A point in time, in milliseconds since the Unix epoch (UTC).
public struct Timestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var millisecondsSinceEpoch: Int64

    public init(millisecondsSinceEpoch: Int64) {
        self.millisecondsSinceEpoch = millisecondsSinceEpoch
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        lhs.millisecondsSinceEpoch < rhs.millisecondsSinceEpoch
    }

    public func adding(seconds: Int64) -> Timestamp {
        Timestamp(millisecondsSinceEpoch: millisecondsSinceEpoch + seconds * 1000)
    }

    public var description: String { "\(millisecondsSinceEpoch)ms" }
}

/// Where the ledger gets "now" from. Injected, so tests and replays control time.
public protocol Clock: Sendable {
    func now() -> Timestamp
}

/// The wall clock.
public struct SystemClock: Clock {
    public init() {}
    public func now() -> Timestamp {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Timestamp(millisecondsSinceEpoch: Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000)
    }
}

import Synchronization

/// A clock that moves only when told to: deterministic tests and simulated replays.
public final class ManualClock: Clock {
    private let current: Mutex<Timestamp>

    public init(_ start: Timestamp = Timestamp(millisecondsSinceEpoch: 1_700_000_000_000)) {
        current = Mutex(start)
    }

    public func now() -> Timestamp { current.withLock { $0 } }

    public func advance(milliseconds: Int64) {
        precondition(milliseconds >= 0, "a clock never goes back")
        current.withLock { $0.millisecondsSinceEpoch += milliseconds }
    }
}
