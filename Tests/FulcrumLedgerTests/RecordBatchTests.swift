import FulcrumCore
import Testing
@testable import FulcrumLedger

/// Records written through the ledger's writer for the modules above it.
@Suite struct RecordBatchTests {
    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func recordsAloneAreStoredListedAndDeleted() async throws {
        let ledger = try makeLedger()
        var batch = RecordBatch()
        for key in ["a/1", "a/2", "a/3", "b/1"] { batch.put(Self.bytes(key), Self.bytes("v" + key)) }
        try await ledger.write(batch)
        let reader = try ledger.makeReader()
        #expect(try reader.record(Self.bytes("a/2")) == Self.bytes("va/2"))
        #expect(try reader.record(Self.bytes("a/9")) == nil)
        #expect(try reader.records(prefix: Self.bytes("a/"), limit: 10).map(\.key) == ["a/1", "a/2", "a/3"].map(Self.bytes))
        #expect(try reader.records(prefix: Self.bytes("a/"), after: Self.bytes("a/1"), limit: 1).map(\.key) == [Self.bytes("a/2")])
        #expect(try reader.records(prefix: Self.bytes("a/"), limit: 2, reverse: true).map(\.key) == ["a/3", "a/2"].map(Self.bytes))
        #expect(try reader.records(prefix: Self.bytes("b/"), limit: 5, reverse: true).map(\.key) == [Self.bytes("b/1")])
        #expect(try reader.records(prefix: Self.bytes("c/"), limit: 5, reverse: true).isEmpty)
        var removal = RecordBatch()
        removal.delete(Self.bytes("a/2"))
        removal.delete(Self.bytes("a/never"))
        try await ledger.write(removal)
        #expect(try reader.records(prefix: Self.bytes("a/"), limit: 10).count == 2)
    }

    @Test func aFailedGuardWritesNothing() async throws {
        let ledger = try makeLedger()
        var first = RecordBatch()
        first.expectAbsent(Self.bytes("k"))
        first.put(Self.bytes("k"), Self.bytes("1"))
        try await ledger.write(first)
        var again = first
        again.put(Self.bytes("other"), Self.bytes("x"))
        await #expect(throws: FulcrumError(.recordConflict, "the record already exists", path: "guards[0]")) {
            try await ledger.write(again)
        }
        var swap = RecordBatch()
        swap.expect(Self.bytes("k"), equals: Self.bytes("2"))
        swap.put(Self.bytes("k"), Self.bytes("3"))
        await #expect(throws: FulcrumError.self) { try await ledger.write(swap) }
        let reader = try ledger.makeReader()
        #expect(try reader.record(Self.bytes("k")) == Self.bytes("1"))
        #expect(try reader.record(Self.bytes("other")) == nil)
    }

    @Test func recordsAttachedToACommandCommitWithItOrNotAtAll() async throws {
        let ledger = try makeLedger()
        _ = try await ledger.adjust(.init(node: "A", sku: "X", change: .set(5)))
        var records = RecordBatch()
        records.put(Self.bytes("order/o1"), Self.bytes("reserved"))
        let reserve = LedgerCommand.reserve(.init(order: "o1", lines: [line("A", "X", 3)]))
        _ = try await ledger.execute(reserve, attaching: records)
        let reader = try ledger.makeReader()
        #expect(try reader.record(Self.bytes("order/o1")) == Self.bytes("reserved"))

        var failed = RecordBatch()
        failed.put(Self.bytes("order/o2"), Self.bytes("reserved"))
        let tooMuch = LedgerCommand.reserve(.init(order: "o2", lines: [line("A", "X", 3)]))
        await #expect(throws: FulcrumError.self) { try await ledger.execute(tooMuch, attaching: failed) }
        #expect(try reader.record(Self.bytes("order/o2")) == nil)

        var conflicting = RecordBatch()
        conflicting.expectAbsent(Self.bytes("order/o1"))
        let small = LedgerCommand.reserve(.init(order: "o3", lines: [line("A", "X", 1)]))
        await #expect(throws: FulcrumError.self) { try await ledger.execute(small, attaching: conflicting) }
        #expect(try reader.reservation(order: "o3") == nil)
        #expect(try reader.position(node: "A", sku: "X").reserved == 3)
        #expect(try ledger.verify().isConsistent)
    }

    @Test func badKeysAreRefused() async throws {
        let ledger = try makeLedger()
        var empty = RecordBatch()
        empty.put([], Self.bytes("v"))
        await #expect(throws: FulcrumError(.invalidArgument, "record keys are 1 to 511 bytes", path: "writes[0]")) {
            try await ledger.write(empty)
        }
        var long = RecordBatch()
        long.put(Array(repeating: 1, count: 512), [])
        await #expect(throws: FulcrumError.self) { try await ledger.write(long) }
    }

    @Test func countersAddUpAcrossConcurrentBatchesAndAFailedCommandAddsNothing() async throws {
        let ledger = try makeLedger()
        let key = Self.bytes("count/A")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for amount in 1...50 {
                group.addTask {
                    var batch = RecordBatch()
                    batch.add(key, Int64(amount))
                    try await ledger.write(batch)
                }
            }
            try await group.waitForAll()
        }
        let reader = try ledger.makeReader()
        #expect(try reader.record(key).flatMap(RecordBatch.counterValue) == 1275)

        _ = try await ledger.adjust(.init(node: "A", sku: "X", change: .set(1)))
        var attached = RecordBatch()
        attached.add(key, 1000)
        let tooMuch = LedgerCommand.reserve(.init(order: "o1", lines: [line("A", "X", 3)]))
        await #expect(throws: FulcrumError.self) { try await ledger.execute(tooMuch, attaching: attached) }
        #expect(try reader.record(key).flatMap(RecordBatch.counterValue) == 1275)

        var notACounter = RecordBatch()
        notACounter.put(Self.bytes("text"), Self.bytes("hello"))
        try await ledger.write(notACounter)
        var adding = RecordBatch()
        adding.put(Self.bytes("other"), Self.bytes("x"))
        adding.add(Self.bytes("text"), 1)
        await #expect(throws: FulcrumError(.recordConflict, "the record is not a counter", path: "additions[0]")) {
            try await ledger.write(adding)
        }
        #expect(try reader.record(Self.bytes("other")) == nil)
        #expect(try reader.record(Self.bytes("text")) == Self.bytes("hello"))
    }
}
