import FulcrumCore
import FulcrumLedger
import Synchronization

/// Ledger readers lent to whichever thread answers a request. A reader is
/// for one thread at a time; the pool hands each one out exclusively and
/// keeps at most `capacity` idle (each holds an LMDB reader slot).
final class ReaderPool: Sendable {
    /// Moves a reader between threads under the pool's lock; only one thread
    /// holds it at a time, which is all a reader asks for.
    private struct Lent: @unchecked Sendable { let reader: LedgerReader }

    private let ledger: Ledger
    private let capacity: Int
    private let idle = Mutex<[Lent]>([])

    init(ledger: Ledger, capacity: Int) {
        precondition(capacity > 0)
        self.ledger = ledger
        self.capacity = capacity
    }

    func withReader<R>(_ body: (LedgerReader) throws(FulcrumError) -> R) throws(FulcrumError) -> R {
        let reader: LedgerReader
        if let idleReader = idle.withLock({ $0.popLast() })?.reader {
            reader = idleReader
        } else {
            reader = try ledger.makeReader()
        }
        defer {
            let lent = Lent(reader: reader)
            idle.withLock { readers in
                if readers.count < capacity { readers.append(lent) }
            }
        }
        return try body(reader)
    }
}
