import FulcrumCore
@testable import FulcrumLedger
import Testing

/// LMDB's rare errors, made reachable through the ledger's options (the one
/// seam: the map's largest size and the reader slots): each is a typed
/// `storage_error`, nothing acknowledged is lost, and the ledger keeps serving.
@Suite struct RareErrorTests {
    /// Adjusts new SKUs in concurrent batches until a write fails; returns the acknowledged SKUs and the failure.
    static func fill(_ ledger: Ledger, batches: Int = 1_000, perBatch: Int = 64) async -> (acknowledged: [String], failure: FulcrumError?) {
        var acknowledged: [String] = []
        for batch in 0..<batches {
            let results = await withTaskGroup(of: (String, FulcrumError?).self) { group in
                for index in 0..<perBatch {
                    let sku = "SKU-\(batch)-\(index)-" + String(repeating: "x", count: 40)
                    group.addTask {
                        do {
                            _ = try await ledger.adjust(AdjustRequest(node: "N1", sku: sku, change: .set(7), reason: "fill"))
                            return (sku, nil)
                        } catch let error as FulcrumError {
                            return (sku, error)
                        } catch {
                            return (sku, FulcrumError(.storage, "\(error)"))
                        }
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            acknowledged += results.filter { $0.1 == nil }.map { $0.0 }
            if let failure = results.compactMap({ $0.1 }).first { return (acknowledged, failure) }
        }
        return (acknowledged, nil)
    }

    /// MDB_MAP_FULL at the map's largest size: the map grows (doubling) up to
    /// the limit, then commits fail with `storage_error`, reads go on, and
    /// every acknowledged write is there and refolds.
    @Test func aFullMapIsATypedErrorAndLosesNothing() async throws {
        let ledger = try makeLedger { options in
            options.mapSizeBytes = 1 << 20
            options.mapSizeBytesMax = 4 << 20
        }
        defer { ledger.close() }
        let (acknowledged, failure) = await Self.fill(ledger)
        let error = try #require(failure, "the ledger never filled")
        #expect(error.code == .storage)
        #expect(error.message.contains("the ledger is full"))
        #expect(ledger.counters.mapGrowths == 2)  // 1 → 2 → 4 MiB, then full
        #expect(!acknowledged.isEmpty)
        let reader = try ledger.makeReader()
        for sku in acknowledged { #expect(try reader.position(node: "N1", sku: sku).onHand == 7) }
        #expect(try ledger.verify().isConsistent)
    }

    /// MDB_READERS_FULL: a reader past the slots is `storage_error` naming
    /// the cause; a slot given back can be taken again.
    @Test func readersPastTheSlotsAreATypedError() throws {
        let ledger = try makeLedger { $0.readersMax = 4 }
        defer { ledger.close() }
        var readers = try (0..<4).map { _ in try ledger.makeReader() }
        do {
            _ = try ledger.makeReader()
            Issue.record("a fifth reader got a slot of four")
        } catch {
            #expect(error.code == .storage && error.message.contains("readers full"), "\(error)")
        }
        readers.removeLast()
        let again = try ledger.makeReader()
        #expect(try again.counts().positions == 0)
        #expect(readers.count == 3)
    }
}
