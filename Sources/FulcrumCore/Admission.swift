import Dispatch
import Synchronization

/// The open connections of one listener, in two classes with a budget each,
/// so that connections which have proved nothing can never crowd out those
/// which have:
///
/// - **pending**: not yet authenticated (RPC with a token: no Hello yet) or
///   not yet through a first request (HTTP: headers still arriving);
/// - **admitted**: past that point.
///
/// Over its class's budget, a new connection makes room by shedding the
/// oldest pending connection (for a pending one) or the admitted connection
/// idle the longest with nothing in flight (for an admitted one); when every
/// admitted connection is busy the newcomer is refused. Deadlines (Hello,
/// headers, idle) are the protocol handlers' own; this is the room.
/// Protocol-free: connections are closed through the closure they registered.
public final class ConnectionTable: Sendable {
    /// One connection's place in the table. Its fields are atomics: the
    /// connection's event loop writes them, a newcomer on another loop may read them.
    public final class Ticket: Sendable {
        /// The connection's number on its listener, for request ids in logs and the audit trail.
        public let number: UInt64
        fileprivate let openedNanoseconds: UInt64
        fileprivate let close: @Sendable () -> Void
        /// The last time a complete request arrived or an answer left (uptime ns).
        public let lastActiveNanoseconds: Atomic<UInt64>
        /// Requests accepted and not yet answered.
        public let inFlight = Atomic<Int>(0)

        fileprivate init(number: UInt64, now: UInt64, close: @escaping @Sendable () -> Void) {
            self.number = number
            openedNanoseconds = now
            lastActiveNanoseconds = Atomic(now)
            self.close = close
        }

        /// Marks activity now.
        public func touch() {
            lastActiveNanoseconds.store(DispatchTime.now().uptimeNanoseconds, ordering: .relaxed)
        }
    }

    public struct Budget: Sendable {
        public var pendingMax: Int
        public var admittedMax: Int
        public init(pendingMax: Int, admittedMax: Int) {
            precondition(pendingMax >= 1 && admittedMax >= 1)
            self.pendingMax = pendingMax
            self.admittedMax = admittedMax
        }
    }

    private struct Table {
        var next: UInt64 = 0
        var pending: [UInt64: Ticket] = [:]
        var admitted: [UInt64: Ticket] = [:]
    }

    public let budget: Budget
    private let table = Mutex(Table())
    private let shedLog: ShedLog

    /// `log` receives at most one line a second saying how many were shed.
    public init(budget: Budget, what: String, log: @escaping @Sendable (String) -> Void) {
        self.budget = budget
        shedLog = ShedLog(what: what, log: log)
    }

    /// Registers a new connection as pending; sheds the oldest pending one
    /// when the pending budget is exceeded.
    public func open(close: @escaping @Sendable () -> Void) -> Ticket {
        let now = DispatchTime.now().uptimeNanoseconds
        let (ticket, shed) = table.withLock { table -> (Ticket, Ticket?) in
            table.next += 1
            let ticket = Ticket(number: table.next, now: now, close: close)
            table.pending[ticket.number] = ticket
            guard table.pending.count > budget.pendingMax else { return (ticket, nil) }
            let oldest = table.pending.values.min { $0.openedNanoseconds < $1.openedNanoseconds }!
            table.pending.removeValue(forKey: oldest.number)
            return (ticket, oldest)
        }
        if let shed { shedConnection(shed, "waiting to prove itself", budget: budget.pendingMax) }
        return ticket
    }

    /// Moves a pending connection to the admitted class; false when the
    /// admitted budget is full of busy connections (the caller refuses it).
    public func admit(_ ticket: Ticket) -> Bool {
        let (admitted, shed) = table.withLock { table -> (Bool, Ticket?) in
            guard table.pending.removeValue(forKey: ticket.number) != nil else {
                return (table.admitted[ticket.number] != nil, nil)  // admitted already, or shed meanwhile
            }
            var shed: Ticket?
            if table.admitted.count >= budget.admittedMax {
                shed = table.admitted.values
                    .filter { $0.inFlight.load(ordering: .relaxed) == 0 }
                    .min { $0.lastActiveNanoseconds.load(ordering: .relaxed) < $1.lastActiveNanoseconds.load(ordering: .relaxed) }
                guard let shed else { return (false, nil) }
                table.admitted.removeValue(forKey: shed.number)
            }
            table.admitted[ticket.number] = ticket
            return (true, shed)
        }
        if let shed { shedConnection(shed, "idle", budget: budget.admittedMax) }
        return admitted
    }

    /// Forgets a closed connection.
    public func closed(_ ticket: Ticket) {
        table.withLock { table in
            if table.pending.removeValue(forKey: ticket.number) == nil { table.admitted.removeValue(forKey: ticket.number) }
        }
    }

    /// Connections open now: (pending, admitted).
    public var counts: (pending: Int, admitted: Int) {
        table.withLock { ($0.pending.count, $0.admitted.count) }
    }

    /// Connections shed since start.
    public var shed: Int { shedLog.total.load(ordering: .relaxed) }

    private func shedConnection(_ ticket: Ticket, _ why: String, budget: Int) {
        shedLog.record(why: why, budget: budget)
        ticket.close()
    }
}

/// Counts shed connections and says so at most once a second.
private final class ShedLog: Sendable {
    let what: String
    let log: @Sendable (String) -> Void
    let total = Atomic<Int>(0)
    private let window = Mutex((startedNanoseconds: UInt64(0), count: 0))

    init(what: String, log: @escaping @Sendable (String) -> Void) {
        self.what = what
        self.log = log
    }

    func record(why: String, budget: Int) {
        total.add(1, ordering: .relaxed)
        let now = DispatchTime.now().uptimeNanoseconds
        let line = window.withLock { window -> String? in
            window.count += 1
            guard now - window.startedNanoseconds >= 1_000_000_000 else { return nil }
            defer { window = (now, 0) }
            return "\(what): shed \(window.count) connection(s) to make room (the latest \(why); budget \(budget)); "
                + "\(total.load(ordering: .relaxed)) since start"
        }
        if let line { log(line) }
    }
}
