import Synchronization

/// Lets the writer grow the LMDB map, which LMDB allows only while no
/// transaction of this process is live, without readers taking a lock.
///
/// A reader marks its slot active, then checks the `resizing` flag; the writer
/// sets `resizing`, then waits until no slot is active. Both sides use
/// sequentially consistent atomics (Dekker's handshake), so at least one of them
/// sees the other. A reader that sees `resizing` backs off until it clears:
/// that happens once per doubling of the map, never on the steady-state path.
final class ReaderGate: Sendable {
    /// One reader's flag. Written only by its reader.
    final class Slot: Sendable {
        fileprivate let active = Atomic<Bool>(false)
    }

    private let resizing = Atomic<Bool>(false)
    private let slots = Mutex<[ObjectIdentifier: Slot]>([:])

    func register() -> Slot {
        let slot = Slot()
        slots.withLock { $0[ObjectIdentifier(slot)] = slot }
        return slot
    }

    func unregister(_ slot: Slot) {
        precondition(!slot.active.load(ordering: .relaxed), "unregistering an active reader")
        _ = slots.withLock { $0.removeValue(forKey: ObjectIdentifier(slot)) }
    }

    /// Marks `slot` active; from here until `exit` the map cannot be resized.
    @inline(__always)
    func enter(_ slot: Slot) {
        while true {
            slot.active.store(true, ordering: .sequentiallyConsistent)
            if !resizing.load(ordering: .sequentiallyConsistent) { return }
            slot.active.store(false, ordering: .sequentiallyConsistent)
            while resizing.load(ordering: .sequentiallyConsistent) { yieldProcessor() }
        }
    }

    @inline(__always)
    func exit(_ slot: Slot) {
        slot.active.store(false, ordering: .releasing)
    }

    /// Runs `body` (the resize) once no reader is between `enter` and `exit`.
    func withExclusiveAccess<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
        resizing.store(true, ordering: .sequentiallyConsistent)
        defer { resizing.store(false, ordering: .sequentiallyConsistent) }
        let current = slots.withLock { Array($0.values) }
        for slot in current {
            while slot.active.load(ordering: .sequentiallyConsistent) { yieldProcessor() }
        }
        return try body()
    }

    /// A transient reader: registers a slot for the length of `body`.
    func withTransientReadAccess<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
        let slot = register()
        enter(slot)
        defer {
            exit(slot)
            unregister(slot)
        }
        return try body()
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@inline(__always) private func yieldProcessor() { sched_yield() }
