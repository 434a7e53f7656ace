import Foundation
import FulcrumCore
import FulcrumStorage
import Synchronization

/// Checks every stored record's checksum in the background, a bounded step
/// at a time, round and round, so damage in records nobody reads is found
/// before a backup copies it or a read needs it. Each step is a fresh short
/// snapshot: it never holds an old snapshot (and its pages) for long.
final class Scrubber: @unchecked Sendable {
    private let environment: Environment
    private let databases: [Database]
    private let gate: ReaderGate
    private let integrity: Integrity
    private let pause: TimeInterval
    // Guarded by `condition`.
    private let condition = NSCondition()
    private var stopping = false
    private let finished = DispatchSemaphore(value: 0)

    /// Records checked and whole passes finished, for `Stats`.
    let checkedRecords = Atomic<Int>(0)
    let passes = Atomic<Int>(0)

    init(environment: Environment, schema: Schema, gate: ReaderGate, integrity: Integrity, recordsPerSecond: Int) {
        precondition(recordsPerSecond > 0)
        self.environment = environment
        self.databases = schema.all
        self.gate = gate
        self.integrity = integrity
        self.pause = Double(Limits.scrubStepRecords) / Double(recordsPerSecond)
        let thread = Thread { [self] in run() }
        thread.name = "fulcrum-ledger-scrubber"
        thread.start()
    }

    /// Stops after the current step; returns once the thread is done. Idempotent.
    func stop() {
        condition.lock()
        let alreadyStopping = stopping
        stopping = true
        condition.signal()
        condition.unlock()
        if !alreadyStopping { finished.wait() }
    }

    private func run() {
        var database = 0
        var after: [UInt8]? = nil
        while waitBeforeStep() {
            var scan = ChecksumScan()
            do {
                after = try gate.withTransientReadAccess { () throws(LMDBError) in
                    let transaction = try ReadTransaction(environment)
                    return try scan.step(databases[database], after: after, in: transaction, limit: Limits.scrubStepRecords)
                }
            } catch {
                // Readers full or a damaged page: try again next step from the same place.
                continue
            }
            for path in scan.damaged { integrity.report(path) }
            checkedRecords.add(scan.checked, ordering: .relaxed)
            if after == nil {
                database = (database + 1) % databases.count
                if database == 0 { passes.add(1, ordering: .relaxed) }
            }
        }
        finished.signal()
    }

    /// Sleeps one pause (the rate's bound); false once stopping.
    private func waitBeforeStep() -> Bool {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date(timeIntervalSinceNow: pause)
        while !stopping && condition.wait(until: deadline) {}
        return !stopping
    }
}
