import CLMDB
import Foundation
import FulcrumCore
import FulcrumStorage
import FulcrumTestSupport
import Testing
@testable import FulcrumLedger

/// Damage to the file, made as bad luck makes it: bytes edited in data.mdb
/// of a closed ledger, never through a seam in the code under test.
@Suite struct IntegrityTests {
    /// A ledger on disk with a distinctive on-hand at DC-1/SKU-1 and a plain one at DC-2/SKU-1.
    private func ledgerOnDisk(extraPositions: Int = 0) async throws -> String {
        let directory = temporaryDirectory()
        var options = Ledger.Options()
        options.durable = false
        options.expirySweepIntervalMilliseconds = nil
        // No scrubber: its read transactions would hold pages back from reuse
        // at moments a loaded machine decides, and the file's layout (which
        // pages the tests zero) would differ from run to run.
        options.scrubRecordsPerSecond = 0
        let ledger = try Ledger(directory: directory, options: options)
        _ = try await ledger.adjust(AdjustRequest(node: "DC-1", sku: "SKU-1", change: .set(7_777_777)))
        _ = try await ledger.adjust(AdjustRequest(node: "DC-2", sku: "SKU-1", change: .set(50)))
        for index in 0..<extraPositions {
            _ = try await ledger.adjust(AdjustRequest(node: "DC-\(index % 7)", sku: "SKU-X\(index)", change: .set(5)))
        }
        ledger.close()
        return directory
    }

    /// Flips the top bit of every stored copy of the 32-byte position (7,777,777 on hand, nothing else).
    private func flipOnHandBit(in directory: String) throws -> Int {
        let url = URL(fileURLWithPath: directory + "/data.mdb")
        var bytes = [UInt8](try Data(contentsOf: url))
        var pattern: [UInt8] = withUnsafeBytes(of: Int64(7_777_777).littleEndian, Array.init)
        pattern += [UInt8](repeating: 0, count: 24)
        var flipped = 0
        var offset = 0
        while offset + pattern.count <= bytes.count {
            if bytes[offset] == pattern[0] && Array(bytes[offset..<offset + pattern.count]) == pattern {
                bytes[offset + 6] ^= 0x01  // on hand becomes 7,777,777 + 2^48
                flipped += 1
            }
            offset += 1
        }
        try Data(bytes).write(to: url)
        return flipped
    }

    @Test func aFlippedBitInAPositionIsRefusedNeverServed() async throws {
        let directory = try await ledgerOnDisk()
        #expect(try flipOnHandBit(in: directory) >= 1)

        let ledger = try makeDurableLedger(directory)
        let reader = try ledger.makeReader()
        #expect(throws: FulcrumError.self) { _ = try reader.position(node: "DC-1", sku: "SKU-1") }
        do {
            _ = try reader.availableToPromise(node: "DC-1", sku: "SKU-1")
            Issue.record("a damaged position was served")
        } catch {
            #expect(error.code == .corrupt)
            #expect(error.path == "positions/DC-1/SKU-1")
        }
        do {
            _ = try reader.availableToPromise(sku: "SKU-1")
            Issue.record("a damaged position was served in a scan")
        } catch {
            #expect(error.code == .corrupt)
        }
        // No reservation against it; the command fails alone and its neighbour in the ledger still works.
        let reserve = await outcome(ledger, .reserve(ReserveRequest(order: "O-1", lines: [line("DC-1", "SKU-1", 3_000_000_000)])))
        #expect(reserve.failure?.code == .corrupt)
        #expect(try reader.reservation(order: "O-1") == nil)
        _ = try await ledger.reserve(ReserveRequest(order: "O-2", lines: [line("DC-2", "SKU-1", 5)]))
        #expect(try reader.position(node: "DC-2", sku: "SKU-1").reserved == 5)
        #expect(ledger.corruptRecords >= 3)
        ledger.close()

        let report = try LedgerVerifier.verify(directory: directory, checksums: true)
        #expect(!report.isConsistent)
        #expect(report.checkedRecords > 0)
        #expect(report.mismatches.contains { $0.contains("damaged") && $0.contains("positions/") }, "\(report.mismatches)")
        let refold = try LedgerVerifier.verify(directory: directory)
        #expect(!refold.isConsistent, "the refold reports the damage it meets instead of throwing")
    }

    @Test func theScrubberFindsDamageNobodyReads() async throws {
        let directory = try await ledgerOnDisk()
        _ = try flipOnHandBit(in: directory)
        var options = Ledger.Options()
        options.scrubRecordsPerSecond = 100_000
        let ledger = try Ledger(directory: directory, options: options)
        let deadline = ContinuousClock.now + .seconds(10)
        while ledger.corruptRecords == 0 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(ledger.corruptRecords >= 1)
        #expect(ledger.scrubbed.records >= 1)
        ledger.close()
    }

    @Test func aTruncatedFileIsRefusedAtOpenWithAMessage() async throws {
        let directory = try await ledgerOnDisk(extraPositions: 3_000)
        let path = directory + "/data.mdb"
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
        #expect(truncate(path, off_t(size / 2)) == 0)
        for open in [{ _ = try makeDurableLedger(directory) }, { _ = try LedgerVerifier.verify(directory: directory) }] {
            do {
                try open()
                Issue.record("a truncated file was opened")
            } catch let error as FulcrumError {
                #expect(error.code == .corrupt)
                #expect(error.message.contains("truncated"))
            }
        }
    }

    /// Zeroed pages: `fulcrum verify` answers with a report or a typed
    /// `corrupt` error, whether LMDB finds the damage (`MDB_CORRUPTED`),
    /// asserts (`IS_LEAF(mp)`, which aborts the process) or never reads the
    /// page (a free one), and never dies by a signal itself.
    @Test func zeroedPagesMakeVerifyReportNotAbort() async throws {
        let directory = try await ledgerOnDisk(extraPositions: 3_000)
        let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: directory + "/data.mdb")))
        let page = 4_096
        var outputs: [String] = []
        // Pages 2... hold the first B-tree pages written; the middle third is mostly entries.
        let pages = original.count / page
        for zeroed in [2..<3, 3..<4, 4..<5, pages / 3..<pages * 2 / 3] {
            var bytes = original
            bytes.replaceSubrange(zeroed.lowerBound * page..<zeroed.upperBound * page, with: repeatElement(0, count: zeroed.count * page))
            try Data(bytes).write(to: URL(fileURLWithPath: directory + "/data.mdb"))
            for flags in [[], ["--checksums"]] {
                let (status, output) = try run(
                    builtExecutable("fulcrum"), ["verify", "--data", directory, "--json"] + flags, timeoutSeconds: 60)
                let answer = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any]
                let consistent = answer?["consistent"] as? Bool
                let code = (answer?["error"] as? [String: Any])?["code"] as? String
                #expect(
                    (consistent == true && status == 0) || (consistent == false && status == 1)
                        || (code == "corrupt" && status == 2),
                    "pages \(zeroed) \(flags): \(output)")
                outputs.append(output)
            }
        }
        #expect(outputs.contains { $0.contains("structural damage") && $0.contains("signal") }, "a crash was reported")
        #expect(outputs.contains { $0.contains("MDB_CORRUPTED") })
    }

    /// A format-1 ledger (values without checksums) is upgraded when opened for
    /// writing; read-only tools refuse it with a message until then.
    @Test func aFormatOneLedgerIsUpgradedInPlace() async throws {
        let directory = try await ledgerOnDisk(extraPositions: 5_000)
        try stripChecksums(directory)
        #expect(throws: FulcrumError.self) { _ = try LedgerVerifier.verify(directory: directory) }

        let ledger = try makeDurableLedger(directory)
        let reader = try ledger.makeReader()
        #expect(try reader.position(node: "DC-1", sku: "SKU-1").onHand == 7_777_777)
        #expect(try reader.position(node: "DC-4", sku: "SKU-X4001").onHand == 5)
        _ = try await ledger.adjust(AdjustRequest(node: "DC-1", sku: "SKU-1", change: .delta(1)))
        ledger.close()
        let report = try LedgerVerifier.verify(directory: directory, checksums: true)
        #expect(report.isConsistent, "\(report.mismatches)")
        #expect(report.entries == 5_003)
    }

    private func makeDurableLedger(_ directory: String) throws -> Ledger {
        var options = Ledger.Options()
        options.expirySweepIntervalMilliseconds = nil
        options.scrubRecordsPerSecond = 0
        return try Ledger(directory: directory, options: options)
    }

    /// Rewrites every value without its 4-byte trailer and the format record as
    /// version 1, with LMDB's C API: the ledger as the previous release left it.
    private func stripChecksums(_ directory: String) throws {
        var env: OpaquePointer?
        #expect(mdb_env_create(&env) == 0)
        defer { mdb_env_close(env) }
        mdb_env_set_maxdbs(env, 16)
        mdb_env_set_mapsize(env, 1 << 30)
        #expect(mdb_env_open(env, directory, 0, 0o644) == 0)
        var txn: OpaquePointer?
        #expect(mdb_txn_begin(env, nil, 0, &txn) == 0)
        for name in [
            "meta", "names", "ids", "positions", "reservations", "expiries", "receipts", "receipts_by_position",
            "entries", "idempotency", "records",
        ] {
            var dbi: MDB_dbi = 0
            #expect(mdb_dbi_open(txn, name, 0, &dbi) == 0, "\(name)")
            var cursor: OpaquePointer?
            mdb_cursor_open(txn, dbi, &cursor)
            var records: [([UInt8], [UInt8])] = []
            var key = MDB_val()
            var value = MDB_val()
            var code = mdb_cursor_get(cursor, &key, &value, MDB_FIRST)
            while code == 0 {
                records.append((
                    Array(UnsafeRawBufferPointer(start: key.mv_data, count: key.mv_size)),
                    Array(UnsafeRawBufferPointer(start: value.mv_data, count: value.mv_size - 4))))
                code = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)
            }
            mdb_cursor_close(cursor)
            for (keyBytes, valueBytes) in records {
                var stored = valueBytes
                if name == "meta" && keyBytes == Schema.formatKey { stored = Schema.formatRecord(version: 1) }
                keyBytes.withUnsafeBytes { keyRaw in
                    stored.withUnsafeBytes { valueRaw in
                        var key = MDB_val(mv_size: keyRaw.count, mv_data: UnsafeMutableRawPointer(mutating: keyRaw.baseAddress))
                        var value = MDB_val(
                            mv_size: valueRaw.count, mv_data: UnsafeMutableRawPointer(mutating: valueRaw.baseAddress))
                        #expect(mdb_put(txn, dbi, &key, &value, 0) == 0)
                    }
                }
            }
        }
        #expect(mdb_txn_commit(txn) == 0)
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}

@Suite struct DiskFailureMessageTests {
    /// The first failed write of a full disk often carries EIO: the free space names it, not errno alone.
    @Test func aFullDiskIsCalledFullWhateverTheErrno() {
        let full = Integrity.diskFailure(LMDBError(code: EIO, operation: "mdb_txn_commit"), directory: "/d", freeBytes: 4_096)
        #expect(full.contains("is full") && full.contains("4096 bytes free") && full.contains("writes resume"))
        let noSpace = Integrity.diskFailure(LMDBError(code: ENOSPC, operation: "mdb_put"), directory: "/d", freeBytes: nil)
        #expect(noSpace.contains("is full"))
        let failing = Integrity.diskFailure(
            LMDBError(code: EIO, operation: "mdb_txn_commit"), directory: "/d", freeBytes: 50 << 30)
        #expect(failing.contains("input/output error") && !failing.contains("is full"))
    }
}
