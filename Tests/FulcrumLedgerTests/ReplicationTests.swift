import FulcrumCore
import FulcrumTestSupport
import Synchronization
import Testing
@testable import FulcrumLedger

/// A log in memory, standing in for the cluster's (FulcrumReplication's etcd log):
/// it keeps what the leader appends, or refuses like a deposed leader's compare.
final class MemoryLog: ReplicatedLog {
    let entries = Mutex<[[UInt8]]>([])
    let refusal = Mutex<FulcrumError?>(nil)

    func append(_ entry: [UInt8], sequence: UInt64) -> any LogAppend {
        if let refusal = refusal.withLock({ $0 }) { return FinishedAppend(refusal) }
        return FinishedAppend(entries.withLock { entries in
            guard sequence == UInt64(entries.count) + 1 else { return FulcrumError(.notLeader, "the log's head moved") }
            entries.append(entry)
            return nil
        })
    }

    func decoded() throws -> [LogEntry] { try entries.withLock { $0 }.map(LogEntry.decode) }
}

/// State-machine replication's own promise: the same log applied on fresh
/// replicas gives the same ledger, byte for byte, as the leader that wrote it.
@Suite struct ReplicationTests {
    static func replica(clock: ManualClock = ManualClock()) throws -> Ledger {
        try makeLedger(clock: clock) { $0.replica = true }
    }

    /// Commands of every kind, successes and failures, records with guards and
    /// counters, an idempotent retry and an expiry: what a leader's groups hold.
    static func drive(_ leader: Ledger, clock: ManualClock) async {
        _ = await outcome(leader, .adjust(AdjustRequest(node: "DC1", sku: "SKU-1", change: .set(10), reason: "count")))
        _ = await outcome(leader, .adjust(AdjustRequest(node: "DC2", sku: "SKU-1", change: .delta(4))))
        _ = await outcome(leader, .setSafetyStock(SetSafetyStockRequest(node: "DC1", sku: "SKU-1", quantity: 1)))
        let due = Timestamp(millisecondsSinceEpoch: clock.now().millisecondsSinceEpoch + 86_400_000)
        _ = await outcome(leader, .schedule(ScheduleRequest(ScheduledReceipt(receipt: "PO-1", node: "DC2", sku: "SKU-1", quantity: 5, due: due))))
        _ = await outcome(leader, .reserve(ReserveRequest(order: "A", lines: [line("DC1", "SKU-1", 3)], ttlSeconds: 60)), key: "k-A")
        _ = await outcome(leader, .reserve(ReserveRequest(order: "A", lines: [line("DC1", "SKU-1", 3)], ttlSeconds: 60)), key: "k-A")
        _ = await outcome(leader, .reserve(ReserveRequest(order: "B", lines: [line("DC1", "SKU-1", 99)])))
        _ = await outcome(leader, .reserve(ReserveRequest(order: "C", lines: [line("DC1", "SKU-1", 2), line("DC2", "SKU-1", 1)])))
        _ = await outcome(leader, .confirm(order: "C"))
        _ = await outcome(leader, .ship(order: "C"))
        _ = await outcome(leader, .receive(ReceiveRequest(receipt: "PO-1")))
        var records = RecordBatch()
        records.expectAbsent(Array("o/1".utf8))
        records.put(Array("o/1".utf8), Array("first".utf8))
        records.add(Array("u/DC1".utf8), 3)
        _ = try? await leader.execute(.reserve(ReserveRequest(order: "D", lines: [line("DC2", "SKU-1", 1)])), attaching: records)
        _ = try? await leader.write(records)  // the guard fails: nothing written
        clock.advance(milliseconds: 61_000)
        _ = await outcome(leader, .expireDue)
        _ = await outcome(leader, .release(order: "D"))
    }

    @Test func theLeadersLogRebuildsItOnFreshReplicas() async throws {
        let clock = ManualClock()
        let leader = try Self.replica(clock: clock)
        let log = MemoryLog()
        leader.setRole(.leader(log: log, term: 7))
        await Self.drive(leader, clock: clock)
        let entries = try log.decoded()
        #expect(entries.count == 15)
        #expect(entries.map(\.sequence) == Array(1...UInt64(entries.count)))
        #expect(entries.allSatisfy { $0.term == 7 })
        #expect(leader.appliedSequence == UInt64(entries.count))

        // One replica applies the whole log at once, another an entry at a time, on clocks far away.
        let whole = try Self.replica(clock: ManualClock(Timestamp(millisecondsSinceEpoch: 0)))
        try await whole.apply(entries)
        let stepwise = try Self.replica(clock: ManualClock(Timestamp(millisecondsSinceEpoch: 9_000_000_000_000)))
        for entry in entries { try await stepwise.apply([entry]) }
        try await stepwise.apply(Array(entries.prefix(3)))  // already applied: skipped
        let expected = try leader.digest()
        #expect(try whole.digest() == expected)
        #expect(try stepwise.digest() == expected)
        #expect(whole.appliedSequence == leader.appliedSequence)
        // The digest sees what the replicas hold: a further change on one is a difference.
        #expect(try makeLedger().digest() != expected)
        var late = entries.last!
        late.sequence += 1
        late.at.millisecondsSinceEpoch += 1
        late.commands = [.init(command: .adjust(AdjustRequest(node: "DC1", sku: "SKU-1", change: .delta(1))))]
        try await whole.apply([late])
        #expect(try whole.digest() != expected)
        // The same result over the verifier's refold.
        #expect(try stepwise.verify().isConsistent)
    }

    @Test func aFollowerRefusesWritesAndAGapIsCorrupt() async throws {
        let follower = try Self.replica()
        await #expect(throws: FulcrumError(.notLeader, "this replica is a follower and no leader is known yet; retry shortly")) {
            try await follower.execute(.adjust(AdjustRequest(node: "DC1", sku: "S", change: .set(1))))
        }
        follower.setRole(.follower(leader: "10.0.0.2:7400"))
        await #expect(throws: FulcrumError(.notLeader, "this replica is a follower; the leader is at 10.0.0.2:7400", path: "10.0.0.2:7400")) {
            try await follower.write(RecordBatch.with("k", "v"))
        }
        let entry = LogEntry(sequence: 2, term: 1, at: Timestamp(millisecondsSinceEpoch: 5), commands: [.init(command: .expireDue)])
        await #expect(throws: FulcrumError(.corrupt, "log entry 2 follows 0: a gap in the log")) {
            try await follower.apply([entry])
        }
        #expect(follower.appliedSequence == 0)
    }

    @Test func aDeposedLeaderAppliesAndAcknowledgesNothing() async throws {
        let leader = try Self.replica()
        let log = MemoryLog()
        leader.setRole(.leader(log: log, term: 3))
        _ = try await leader.execute(.adjust(AdjustRequest(node: "DC1", sku: "S", change: .set(5))))
        let before = try leader.digest()
        log.refusal.withLock { $0 = FulcrumError(.notLeader, "the leader key has another term") }
        await #expect(throws: FulcrumError(.notLeader, "the leader key has another term")) {
            try await leader.execute(.reserve(ReserveRequest(order: "X", lines: [line("DC1", "S", 1)])))
        }
        #expect(try leader.digest() == before)
        #expect(leader.appliedSequence == 1)
        // It follows from then on, until its replica loop says otherwise.
        await #expect(throws: FulcrumError(.notLeader, "this replica is a follower and no leader is known yet; retry shortly")) {
            try await leader.execute(.release(order: "X"))
        }
    }

    @Test func entriesRoundTripAndOtherFormatsAreRefused() throws {
        var records = RecordBatch()
        records.expect(Array("g".utf8), equals: [1, 2])
        records.expectAbsent(Array("h".utf8))
        records.put(Array("p".utf8), [UInt8](repeating: 7, count: 70_000))
        records.delete(Array("d".utf8))
        records.add(Array("c".utf8), -4)
        let entry = LogEntry(
            sequence: 42, term: 9, at: Timestamp(millisecondsSinceEpoch: 1_700_000_000_123),
            commands: [
                .init(command: .receive(ReceiveRequest(receipt: "PO", quantity: nil))),
                .init(command: .receive(ReceiveRequest(receipt: "PO", quantity: -1)), idempotencyKey: "k"),
                .init(command: .adjust(AdjustRequest(node: "N", sku: "S", change: .set(-3), reason: "é")), records: records),
                .init(command: nil, records: records),
                .init(command: .reserve(ReserveRequest(order: "O", lines: [line("N", "S", 2), line("M", "S", 1)], ttlSeconds: 5))),
                .init(command: .confirm(order: "O")), .init(command: .ship(order: "O")), .init(command: .release(order: "O")),
                .init(command: .setSafetyStock(SetSafetyStockRequest(node: "N", sku: "S", quantity: 2))),
                .init(command: .schedule(ScheduleRequest(ScheduledReceipt(receipt: "R", node: "N", sku: "S", quantity: 4, due: .init(millisecondsSinceEpoch: 9))))),
                .init(command: .expireDue),
            ])
        let bytes = entry.encoded()
        #expect(try LogEntry.decode(bytes) == entry)
        var otherVersion = bytes
        otherVersion[4] = 2
        #expect(throws: FulcrumError(.corrupt, "log entry format 2; this build reads 1")) { try LogEntry.decode(otherVersion) }
        #expect(throws: FulcrumError(.corrupt, "not a Fulcrum log entry")) { try LogEntry.decode(Array("{\"json\":1}".utf8)) }
        #expect(throws: FulcrumError.self) { try LogEntry.decode(Array(bytes.dropLast())) }
    }
}

extension RecordBatch {
    static func with(_ key: String, _ value: String) -> RecordBatch {
        var batch = RecordBatch()
        batch.put(Array(key.utf8), Array(value.utf8))
        return batch
    }
}
