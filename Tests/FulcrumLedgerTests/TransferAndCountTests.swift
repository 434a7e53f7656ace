import Foundation
import FulcrumCore
import FulcrumStorage
import Testing
@testable import FulcrumLedger

/// Transfers between nodes and counts from inventory feeds: the rules the
/// model-based test meets only now and then, each checked head on.
@Suite struct TransferAndCountTests {
    @Test func aTransferMovesUnheldStockIntoTransitAndLandsWhenReceived() async throws {
        let clock = ManualClock()
        let ledger = try makeLedger(clock: clock)
        _ = try await ledger.adjust(.init(node: "A", sku: "X", change: .set(10)))
        _ = try await ledger.setSafetyStock(.init(node: "A", sku: "X", quantity: 1))
        _ = try await ledger.reserve(.init(order: "o1", lines: [line("A", "X", 3)]))
        _ = try await ledger.reserve(.init(order: "o2", lines: [line("A", "X", 2)]))
        _ = try await ledger.confirm(order: "o2")
        let due = clock.now().adding(seconds: 2 * 86_400)
        func transfer(_ id: String, to: String = "B", _ quantity: Int64) -> TransferRequest {
            TransferRequest(transfer: id, fromNode: "A", toNode: to, sku: "X", quantity: quantity, due: due)
        }
        // 10 on hand, 3 reserved and 2 committed: 5 may travel (safety stock is no hold).
        await #expect(throws: FulcrumError(.insufficientStock, "A/X: transferring 6, 5 not held by reservations", path: "quantity")) {
            _ = try await ledger.transfer(transfer("T1", 6))
        }
        let receipt = try await ledger.transfer(transfer("T1", 5))
        #expect(receipt == ScheduledReceipt(receipt: "T1", node: "B", sku: "X", quantity: 5, due: due, fromNode: "A"))
        await #expect(throws: FulcrumError(.receiptExists, "receipt T1 is already scheduled", path: "transfer")) {
            _ = try await ledger.transfer(transfer("T1", 1))
        }
        await #expect(throws: FulcrumError(.invalidArgument, "a transfer goes to another node than A", path: "to_node")) {
            _ = try await ledger.transfer(transfer("T2", to: "A", 1))
        }
        let reader = try ledger.makeReader()
        #expect(try reader.position(node: "A", sku: "X") == Position(onHand: 5, reserved: 3, committed: 2, safetyStock: 1))
        #expect(try reader.availableToPromise(node: "B", sku: "X") == 0)
        #expect(try reader.availableToPromise(node: "B", sku: "X", on: due.adding(seconds: -1)) == 0)
        #expect(try reader.availableToPromise(node: "B", sku: "X", on: due) == 5)
        #expect(try reader.receipt("T1") == receipt)
        #expect(try ledger.verify().isConsistent)

        let landed = try await ledger.receive(.init(receipt: "T1", quantity: 4))
        #expect(landed == Position(onHand: 4, reserved: 0, committed: 0, safetyStock: 0))
        #expect(try reader.receipt("T1") == nil)
        #expect(try ledger.verify().isConsistent)
    }

    @Test func aLateCountKeepsTheChangesMadeSinceItWasTaken() async throws {
        let clock = ManualClock()
        let ledger = try makeLedger(clock: clock)
        _ = try await ledger.adjust(.init(node: "A", sku: "X", change: .set(10)))
        clock.advance(milliseconds: 1_000)
        let countedAt = clock.now()
        clock.advance(milliseconds: 1_000)
        // After the count: a shipment of 2, a delta of +5 and a transfer out of 1.
        _ = try await ledger.reserve(.init(order: "o1", lines: [line("A", "X", 2)]))
        _ = try await ledger.confirm(order: "o1")
        _ = try await ledger.ship(order: "o1")
        _ = try await ledger.adjust(.init(node: "A", sku: "X", change: .delta(5), source: "pos", sourceReference: "P-7"))
        _ = try await ledger.transfer(
            .init(transfer: "T1", fromNode: "A", toNode: "B", sku: "X", quantity: 1, due: clock.now()))
        // The WMS counted 9 at `countedAt`; the 2 changes since (−2 + 5 − 1) stand.
        let count = AdjustRequest(
            node: "A", sku: "X", change: .set(9), reason: "cycle count", source: "wms-east",
            sourceReference: "snapshot-1.csv", asOf: countedAt)
        #expect(try await ledger.adjust(count).onHand == 11)
        let reader = try ledger.makeReader()
        // What the ledger held when the count was taken (the count's own entry is later): 10, one more than counted.
        #expect(try reader.onHand([PositionKey(node: "A", sku: "X")], asOf: countedAt) == [10])
        #expect(try reader.onHand([PositionKey(node: "A", sku: "X"), PositionKey(node: "Z", sku: "X")], asOf: nil) == [11, 0])

        let last = try storedEntries(ledger).last!
        #expect(last.source == "wms-east")
        #expect(last.reference == "snapshot-1.csv")
        #expect(last.note == "cycle count")
        #expect(last.deadline == countedAt)
        #expect(try ledger.verify().isConsistent)

        await #expect(throws: FulcrumError(.invalidArgument, "as_of_ms goes with set (a count), not delta", path: "as_of_ms")) {
            _ = try await ledger.adjust(.init(node: "A", sku: "X", change: .delta(1), asOf: countedAt))
        }
        // A count from before the changes it would have to keep cannot leave fewer units than are held.
        _ = try await ledger.reserve(.init(order: "o2", lines: [line("A", "X", 8)]))
        await #expect(throws: FulcrumError.self) {
            _ = try await ledger.adjust(.init(node: "A", sku: "X", change: .set(0), asOf: countedAt))
        }
    }

    /// Counts and deltas submitted together share group commits: each count
    /// still keeps exactly the deltas after its time, whichever came first.
    @Test func countsInOneGroupKeepTheDeltasWrittenBesideThem() async throws {
        let clock = ManualClock()
        let ledger = try makeLedger(clock: clock)
        let skus = (0..<200).map { "S\($0)" }
        for sku in skus { _ = try await ledger.adjust(.init(node: "A", sku: sku, change: .set(50))) }
        clock.advance(milliseconds: 1_000)
        let countedAt = clock.now()
        clock.advance(milliseconds: 1_000)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, sku) in skus.enumerated() {
                group.addTask { _ = try await ledger.adjust(.init(node: "A", sku: sku, change: .delta(Int64(index % 7 + 1)))) }
                group.addTask { _ = try await ledger.adjust(.init(node: "A", sku: sku, change: .set(40), asOf: countedAt)) }
            }
            try await group.waitForAll()
        }
        let reader = try ledger.makeReader()
        let onHand = try reader.positions(skus.map { PositionKey(node: "A", sku: $0) }).map(\.onHand)
        #expect(onHand == skus.indices.map { Int64(40 + $0 % 7 + 1) })
        #expect(ledger.counters.groups < 400, "the commands shared groups")
        #expect(try ledger.verify().isConsistent)
    }

    @Test func provenanceSurvivesTheLogAndTheIdempotencyRecord() async throws {
        let counted = LedgerCommand.adjust(
            .init(
                node: "A", sku: "X", change: .set(4), reason: "r", source: "wms", sourceReference: "f",
                asOf: Timestamp(millisecondsSinceEpoch: 5)))
        let transfer = LedgerCommand.transfer(
            .init(transfer: "T", fromNode: "A", toNode: "B", sku: "X", quantity: 2, due: Timestamp(millisecondsSinceEpoch: 9)))
        for command in [counted, transfer] {
            let bytes = CommandCodec.encode(command, exact: true)
            let decoded = try bytes.decode("command") { (reader) throws(FulcrumError) in try CommandCodec.decode(&reader) }
            #expect(decoded == command)
        }
        // Without provenance an adjustment keeps its first encoding (kind 1), so older fingerprints still match.
        #expect(CommandCodec.encode(.adjust(.init(node: "A", sku: "X", change: .set(4))))[0] == 1)

        let ledger = try makeLedger()
        _ = try await ledger.adjust(.init(node: "A", sku: "X", change: .set(4)))
        let first = try await ledger.execute(transfer, idempotencyKey: "k")
        #expect(try await ledger.execute(transfer, idempotencyKey: "k") == first)
        guard case .receipt(let receipt) = first else { Issue.record("a transfer answers its receipt"); return }
        #expect(receipt.fromNode == "A")
    }

    private func storedEntries(_ ledger: Ledger) throws -> [Entry] {
        let transaction = try ReadTransaction(ledger.environment)
        let cursor = try transaction.cursor(ledger.schema.entries)
        var entries: [Entry] = []
        var record = try cursor.first()
        while let (_, value) = record {
            entries.append(try Entry.decode(value))
            record = try cursor.next()
        }
        return entries
    }
}
