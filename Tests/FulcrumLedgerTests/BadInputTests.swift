import Foundation
import FulcrumTestSupport
import FulcrumCore
import FulcrumStorage
import Testing
@testable import FulcrumLedger

@Suite struct BadInputTests {
    static let long = String(repeating: "n", count: Limits.nameBytesMax + 1)

    static let cases: [(LedgerCommand, String?, FulcrumError.Code, String)] = [
        (.adjust(.init(node: "", sku: "X", change: .set(1))), nil, .invalidArgument, "node"),
        (.adjust(.init(node: long, sku: "X", change: .set(1))), nil, .invalidArgument, "node"),
        (.adjust(.init(node: "A", sku: "X\u{0}", change: .set(1))), nil, .invalidArgument, "sku"),
        (.adjust(.init(node: "A", sku: "X", change: .set(-1))), nil, .invalidArgument, "set"),
        (.adjust(.init(node: "A", sku: "X", change: .delta(0))), nil, .invalidArgument, "delta"),
        (.adjust(.init(node: "A", sku: "X", change: .delta(-11))), nil, .insufficientStock, "delta"),
        (.adjust(.init(node: "A", sku: "X", change: .set(2))), nil, .insufficientStock, "set"),
        (.adjust(.init(node: "A", sku: "X", change: .set(Limits.quantityMax + 1))), nil, .invalidArgument, "set"),
        (.adjust(.init(node: "A", sku: "X", change: .delta(1), reason: String(repeating: "r", count: 300))), nil, .invalidArgument, "reason"),
        (.setSafetyStock(.init(node: "A", sku: "X", quantity: -1)), nil, .invalidArgument, "quantity"),
        (.reserve(.init(order: "o", lines: [])), nil, .invalidArgument, "lines"),
        (.reserve(.init(order: "", lines: [line("A", "X", 1)])), nil, .invalidArgument, "order"),
        (.reserve(.init(order: long, lines: [line("A", "X", 1)])), nil, .invalidArgument, "order"),
        (.reserve(.init(order: "o", lines: [line("A", "X", 0)])), nil, .invalidArgument, "lines[0].quantity"),
        (.reserve(.init(order: "o", lines: [line("A", "X", -4)])), nil, .invalidArgument, "lines[0].quantity"),
        (.reserve(.init(order: "o", lines: [line("A", "X", 1), line("A", "X", 1)])), nil, .invalidArgument, "lines[1]"),
        (.reserve(.init(order: "o", lines: [line("A", long, 1)])), nil, .invalidArgument, "lines[0].sku"),
        (.reserve(.init(order: "o", lines: Array(repeating: line("A", "X", 1), count: Limits.reservationLinesMax + 1))), nil, .invalidArgument, "lines"),
        (.reserve(.init(order: "o", lines: [line("A", "X", 1)], ttlSeconds: 0)), nil, .invalidArgument, "ttl_seconds"),
        (.reserve(.init(order: "o", lines: [line("A", "X", 9)])), nil, .insufficientStock, "lines[0].quantity"),
        (.reserve(.init(order: "held", lines: [line("A", "X", 1)])), nil, .reservationExists, "order"),
        (.confirm(order: "unknown"), nil, .reservationNotFound, "order"),
        (.release(order: ""), nil, .invalidArgument, "order"),
        (.schedule(.init(.init(receipt: "PO", node: "A", sku: "X", quantity: 0, due: .init(millisecondsSinceEpoch: 0)))), nil, .invalidArgument, "quantity"),
        (.schedule(.init(.init(receipt: "PO-1", node: "A", sku: "X", quantity: 1, due: .init(millisecondsSinceEpoch: 0)))), nil, .receiptExists, "receipt"),
        (.receive(.init(receipt: "PO-9")), nil, .receiptNotFound, "receipt"),
        (.receive(.init(receipt: "PO-1", quantity: -1)), nil, .invalidArgument, "quantity"),
        (.adjust(.init(node: "A", sku: "X", change: .delta(1))), "", .invalidArgument, "idempotency_key"),
        (.adjust(.init(node: "A", sku: "X", change: .delta(1))), String(repeating: "k", count: 129), .invalidArgument, "idempotency_key"),
        (.adjust(.init(node: "A", sku: "X", change: .delta(2))), "used", .idempotencyConflict, "idempotency_key"),
    ]

    /// Each bad request gets its typed error and the ledger is exactly as before.
    @Test func eachBadRequestIsATypedErrorThatChangesNothing() async throws {
        let ledger = try makeLedger()
        _ = try await ledger.adjust(.init(node: "A", sku: "X", change: .set(10)))
        _ = try await ledger.reserve(.init(order: "held", lines: [line("A", "X", 3)]))
        _ = try await ledger.schedule(.init(.init(receipt: "PO-1", node: "A", sku: "X", quantity: 5, due: .init(millisecondsSinceEpoch: 0))))
        _ = try await ledger.adjust(.init(node: "A", sku: "X", change: .delta(1)), idempotencyKey: "used")
        let reader = try ledger.makeReader()
        let before = try reader.counts()
        let position = try reader.position(node: "A", sku: "X")
        for (command, key, code, path) in Self.cases {
            guard case .failure(let error) = await outcome(ledger, command, key: key) else {
                Issue.record("accepted \(command)")
                continue
            }
            #expect(error.code == code, "\(command)")
            #expect(error.path == path, "\(command): \(error)")
            #expect(!error.message.isEmpty)
        }
        let after = try reader.counts()
        #expect(after.entries == before.entries && after.positions == before.positions)
        #expect(after.reservations == before.reservations && after.receipts == before.receipts)
        #expect(try reader.position(node: "A", sku: "X") == position)
        #expect(try ledger.verify().isConsistent)
    }

    @Test func aDirectoryThatIsNotALedgerIsRefusedUntouched() throws {
        // A directory holding something else.
        let other = temporaryDirectory()
        try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: true)
        try Data("notes".utf8).write(to: URL(fileURLWithPath: other + "/notes.txt"))
        #expect(throws: FulcrumError.self) { _ = try Ledger(directory: other) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: other) == ["notes.txt"])

        // A data.mdb that is not LMDB.
        let garbage = temporaryDirectory()
        try FileManager.default.createDirectory(atPath: garbage, withIntermediateDirectories: true)
        let junk = Data(repeating: 0x5A, count: 8192)
        try junk.write(to: URL(fileURLWithPath: garbage + "/data.mdb"))
        for open in [{ _ = try Ledger(directory: garbage) }, { _ = try LedgerVerifier.verify(directory: garbage) }] {
            do {
                try open()
                Issue.record("opened garbage")
            } catch let error as FulcrumError {
                #expect(error.code == .notALedger)
            }
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: garbage + "/data.mdb")) == junk)

        // Another program's LMDB environment.
        let foreign = temporaryDirectory()
        try FileManager.default.createDirectory(atPath: foreign, withIntermediateDirectories: true)
        do {
            let environment = try Environment(path: foreign, options: .init(mapSizeBytes: 1 << 20))
            let database = try environment.openDatabase("theirs", create: true)
            let write = try WriteTransaction(environment)
            try write.put(database, key: [1], value: [2])
            try write.commit()
        }
        do {
            _ = try Ledger(directory: foreign)
            Issue.record("opened a foreign LMDB file")
        } catch {
            #expect(error.code == .notALedger)
        }
        let environment = try Environment(path: foreign, options: .init(mapSizeBytes: 0, readOnly: true))
        #expect(throws: LMDBError.notFound) { _ = try environment.openDatabase("meta", create: false) }

        // Missing altogether, for the read-only tools.
        #expect(throws: FulcrumError.self) { _ = try LedgerVerifier.verify(directory: temporaryDirectory()) }
    }

    @Test func verifyNamesEveryMismatch() async throws {
        let directory: String
        do {
            let ledger = try makeLedger()
            directory = ledger.directory
            _ = try await ledger.adjust(.init(node: "A", sku: "X", change: .set(10)))
            _ = try await ledger.adjust(.init(node: "B", sku: "Y", change: .set(4)))
            _ = try await ledger.reserve(.init(order: "o", lines: [line("A", "X", 2)]))
            ledger.close()
        }
        #expect(try LedgerVerifier.verify(directory: directory).isConsistent)
        // Tamper behind the ledger's back: a balance, a reservation state.
        let (environment, schema, _) = try LedgerFiles.open(directory: directory, mode: .readWrite(durable: false, mapSizeBytes: 1 << 20, readersMax: Limits.readersMax))
        let write = try WriteTransaction(environment)
        let interned = try Interner(schema: schema, transaction: write)
        let key = Keys.position(sku: interned.lookup(.sku, "Y")!, node: interned.lookup(.node, "B")!)
        try write.put(schema.positions, key: key, value: Records.encode(Position(onHand: 5, reserved: 0, committed: 0, safetyStock: 0)))
        var reservation = try Records.decodeReservation(fromStored: write.value(schema.reservations, key: Array("o".utf8))!)
        reservation.state = .confirmed
        try write.put(schema.reservations, key: Array("o".utf8), value: Records.encode(reservation))
        let expiry = Keys.expiry(reservation.expiresAt, order: "o")
        #expect(try write.delete(schema.expiries, key: expiry))
        try write.commit()
        let report = try LedgerVerifier.verify(directory: directory)
        #expect(!report.isConsistent)
        #expect(report.mismatches.contains { $0.contains("B/Y") })
        #expect(report.mismatches.contains { $0.contains("reservation o") })
        #expect(report.mismatches.contains { $0.contains("expiry index lacks o") })
    }
}

extension Records {
    static func decodeReservation(fromStored bytes: [UInt8]) throws -> Reservation {
        try bytes.decode("reservation") { (reader) throws(FulcrumError) in try decodeReservation(&reader) }
    }
}
