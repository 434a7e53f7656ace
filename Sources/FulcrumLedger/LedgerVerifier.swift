import FulcrumCore
import FulcrumStorage

/// Refolds the entry log from zero and compares the result with the stored
/// balances, reservations, expiry index and receipts. It shares no code with
/// the command logic: entries carry deltas, and the fold only adds them up
/// and follows reservation states.
public enum LedgerVerifier {
    /// Verifies the ledger in `directory` (which may be in use by another
    /// process); with `checksums`, first checks every stored record's checksum.
    public static func verify(directory: String, checksums: Bool = false) throws(FulcrumError) -> VerificationReport {
        let (environment, schema, _) = try LedgerFiles.open(directory: directory, mode: .readOnly)
        return try verify(environment: environment, schema: schema, checksums: checksums)
    }

    /// A damaged record is reported, not thrown: with `checksums` every one
    /// is listed (and the refold, which would stop at the first, is skipped);
    /// without, the refold reports the first it meets.
    static func verify(environment: Environment, schema: Schema, checksums: Bool = false) throws(FulcrumError)
        -> VerificationReport
    {
        do {
            let transaction = try ReadTransaction(environment)
            if checksums {
                var scan = ChecksumScan()
                for database in schema.all { try scan.run(database, in: transaction) }
                if !scan.damaged.isEmpty {
                    var report = VerificationReport()
                    report.checkedRecords = scan.checked
                    report.mismatches = scan.damaged.map { "damaged: the stored record \($0) fails its checksum" }
                    return report
                }
                var report = try refold(schema: schema, transaction: transaction)
                report.checkedRecords = scan.checked
                return report
            }
            return try refold(schema: schema, transaction: transaction)
        } catch let error as FulcrumError {
            throw error
        } catch let error as LMDBError where error.code == LMDBError.checksumMismatch.code {
            var report = VerificationReport()
            report.mismatches = [
                "damaged: the stored record \(ChecksumScan.path(error.database ?? "?", error.key ?? [])) fails its "
                    + "checksum (the refold stopped there; --checksums lists every damaged record)"
            ]
            return report
        } catch let error as LMDBError where Integrity.isStructuralDamage(error) {
            var report = VerificationReport()
            report.mismatches = ["structural damage: \(error); the file's pages are damaged: restore the ledger from a backup"]
            return report
        } catch {
            throw FulcrumError(.storage, "\(error)")
        }
    }

    private static func refold(schema: Schema, transaction: borrowing ReadTransaction) throws -> VerificationReport {
        var fold = try Fold(names: NameTable(schema: schema, transaction: transaction))
        try fold.replay(schema: schema, transaction: transaction)
        try fold.compare(schema: schema, transaction: transaction)
        return fold.report
    }
}

/// Checks stored values against their checksums without decoding them, in
/// key order, a bounded run at a time (`verify --checksums` runs to the end
/// in one snapshot; the scrubber takes short steps in fresh snapshots).
struct ChecksumScan {
    var checked = 0
    /// `database/key` of every damaged record found.
    var damaged: [String] = []

    /// Checks up to `limit` records of `database` after `after` (from the
    /// first when nil); returns the last key checked, nil at the end.
    @discardableResult
    mutating func step(_ database: Database, after: [UInt8]?, in transaction: borrowing ReadTransaction, limit: Int)
        throws(LMDBError) -> [UInt8]?
    {
        let chunk = try transaction.records(database, after: after, limit: limit, verifying: false)
        for (key, stored) in chunk where !Checksum.matches(key: key, stored: stored) {
            damaged.append(Self.path(database.name, key))
        }
        checked += chunk.count
        return chunk.count < limit ? nil : chunk.last?.key
    }

    /// Checks every record of `database`.
    mutating func run(_ database: Database, in transaction: borrowing ReadTransaction) throws(LMDBError) {
        var after: [UInt8]? = nil
        repeat {
            after = try step(database, after: after, in: transaction, limit: Limits.storageChunkRecordsMax)
        } while after != nil
    }

    static func path(_ database: String, _ key: [UInt8]) -> String {
        "\(database)/\(Keys.readable(database: database, key: key))"
    }
}

/// Interned ids back to names, checked both ways.
private struct NameTable {
    var names: [NameKind: [UInt32: String]] = [.node: [:], .sku: [:]]
    var problems: [String] = []

    init(schema: Schema, transaction: borrowing ReadTransaction) throws {
        let cursor = try transaction.cursor(schema.ids)
        var record = try cursor.first()
        while let (key, value) = record {
            if key.count == 5, let kind = NameKind(rawValue: key[0]) {
                let id = Keys.readBigEndian(UInt32.self, key, at: 1)
                let name = String(decoding: value, as: UTF8.self)
                names[kind]![id] = name
                let forward = try transaction.value(schema.names, key: Keys.name(kind, name))
                var expected = ByteWriter(capacity: 4)
                expected.write(id)
                if forward != expected.bytes { problems.append("name \(name) does not map back to id \(id)") }
            } else {
                problems.append("malformed id record")
            }
            record = try cursor.next()
        }
        if try transaction.count(schema.names) != names[.node]!.count + names[.sku]!.count {
            problems.append("the name and id tables differ in size")
        }
    }

    func name(_ kind: NameKind, _ id: UInt32) -> String { names[kind]![id] ?? "#\(id)" }
    func key(sku: UInt32, node: UInt32) -> PositionKey { PositionKey(node: name(.node, node), sku: name(.sku, sku)) }
}

private struct Fold {
    let names: NameTable
    var positions: [UInt64: Position] = [:]
    var reservations: [String: Reservation] = [:]
    var receipts: [String: ScheduledReceipt] = [:]
    /// Allocation records by key (`Keys.channel`).
    var allocations: [[UInt8]: [UInt8]] = [:]
    var report = VerificationReport()

    init(names: NameTable) {
        self.names = names
        report.mismatches = names.problems
    }

    mutating func replay(schema: Schema, transaction: borrowing ReadTransaction) throws {
        let cursor = try transaction.cursor(schema.entries)
        var record = try cursor.first()
        var expected: UInt64 = 1
        while let (key, value) = record {
            let sequence = Keys.readBigEndian(UInt64.self, key, at: 0)
            if sequence != expected { report.mismatches.append("entry \(expected) is missing (next is \(sequence))") }
            expected = sequence + 1
            apply(try Entry.decode(value), sequence: sequence)
            report.entries += 1
            record = try cursor.next()
        }
    }

    private mutating func apply(_ entry: Entry, sequence: UInt64) {
        for posting in entry.postings {
            let word = Keys.positionWord(sku: posting.sku, node: posting.node)
            var position = positions[word] ?? .zero
            position.onHand += posting.onHand
            position.reserved += posting.reserved
            position.committed += posting.committed
            position.safetyStock += posting.safetyStock
            positions[word] = position
            if !position.isValid {
                let key = names.key(sku: posting.sku, node: posting.node)
                report.mismatches.append("entry \(sequence) leaves \(key) invalid: \(position)")
            }
        }
        let states: [Entry.Kind: ReservationState] = [
            .confirm: .confirmed, .ship: .shipped, .release: .released, .expire: .expired,
        ]
        switch entry.kind {
        case .reserve:
            var lines = entry.postings.map { posting in
                ReservationLine(
                    node: names.name(.node, posting.node), sku: names.name(.sku, posting.sku),
                    quantity: posting.reserved)
            }
            for promise in entry.promises {
                lines[Int(promise.posting)].quantity = promise.quantity
                lines[Int(promise.posting)].receipt = promise.receipt
                if receipts[promise.receipt] == nil {
                    report.mismatches.append("entry \(sequence) promises missing receipt \(promise.receipt)")
                }
                receipts[promise.receipt]?.promises[entry.reference] = promise.quantity
            }
            reservations[entry.reference] = Reservation(
                order: entry.reference, state: .reserved, lines: lines, createdAt: entry.at,
                expiresAt: entry.deadline, updatedAt: entry.at, channel: entry.source)
        case .confirm, .ship, .release, .expire:
            guard var reservation = reservations[entry.reference] else {
                report.mismatches.append("entry \(sequence) moves unknown reservation \(entry.reference)")
                return
            }
            reservation.state = states[entry.kind]!
            reservation.updatedAt = entry.at
            if entry.kind == .release || entry.kind == .expire {
                for line in reservation.lines where !line.receipt.isEmpty {
                    receipts[line.receipt]?.promises[entry.reference] = nil
                }
            }
            reservations[entry.reference] = reservation
        case .schedule, .transfer:
            // A transfer's units leave its first posting's node and are due at the one scheduling them.
            guard let posting = entry.postings.first(where: { $0.scheduled != 0 }) else { return }
            let from = entry.postings.first(where: { $0.onHand < 0 }).map { names.name(.node, $0.node) }
            receipts[entry.reference] = ScheduledReceipt(
                receipt: entry.reference, node: names.name(.node, posting.node), sku: names.name(.sku, posting.sku),
                quantity: posting.scheduled, due: entry.deadline, fromNode: from ?? "")
        case .receive:
            // Its preorders' lines become ordinary held units.
            for order in receipts[entry.reference]?.promises.keys ?? [:].keys {
                guard var reservation = reservations[order] else { continue }
                for index in reservation.lines.indices where reservation.lines[index].receipt == entry.reference {
                    reservation.lines[index].receipt = ""
                }
                reservations[order] = reservation
            }
            receipts[entry.reference] = nil
        case .allocate:
            guard let change = entry.allocation else {
                report.mismatches.append("entry \(sequence) allocates nothing")
                return
            }
            let key = Keys.channel(sku: change.sku, node: change.node, channel: entry.reference)
            // The record's first byte is the amount's kind, then the amount: zero removes.
            let removed = (try? Records.decodeAllocation(change.record, sku: "", node: "", channel: ""))?.removes ?? false
            allocations[key] = removed ? nil : change.record
        case .reschedule:
            if receipts[entry.reference] == nil { report.mismatches.append("entry \(sequence) reschedules unknown receipt \(entry.reference)") }
            receipts[entry.reference]?.due = entry.deadline
        case .adjust, .setSafetyStock, .returnToStock:
            break
        }
    }

    /// Units each channel's live reservations hold per position (lines on
    /// hand, not preorders still waiting for their receipt).
    private func channelHolds(names: NameTable, schema: Schema, transaction: borrowing ReadTransaction) throws -> [[UInt8]: Int64] {
        var held: [[UInt8]: Int64] = [:]
        var ids: [String: UInt32] = [:]
        for (kind, table) in names.names { for (id, name) in table { ids["\(kind.rawValue)/\(name)"] = id } }
        for reservation in reservations.values where !reservation.channel.isEmpty && !reservation.state.isTerminal {
            for line in reservation.lines where line.receipt.isEmpty {
                guard let sku = ids["\(NameKind.sku.rawValue)/\(line.sku)"], let node = ids["\(NameKind.node.rawValue)/\(line.node)"] else {
                    continue
                }
                held[Keys.channel(sku: sku, node: node, channel: reservation.channel), default: 0] += line.quantity
            }
        }
        return held
    }

    mutating func compare(schema: Schema, transaction: borrowing ReadTransaction) throws {
        try comparePositions(schema: schema, transaction: transaction)
        try compareReservations(schema: schema, transaction: transaction)
        try compareReceipts(schema: schema, transaction: transaction)
        try compareChannels(schema: schema, transaction: transaction)
    }

    private mutating func compareChannels(schema: Schema, transaction: borrowing ReadTransaction) throws {
        func readable(_ key: [UInt8]) -> String {
            guard let (sku, node, channel) = Keys.decodeChannel(key) else { return "?" }
            return "\(node == 0 ? Allocation.everyNode : names.name(.node, node))/\(names.name(.sku, sku))/\(channel)"
        }
        var unseen = allocations
        if let database = schema.allocations {
            let cursor = try transaction.cursor(database)
            var record = try cursor.first()
            while let (key, value) = record {
                record = try cursor.next()
                report.allocations += 1
                if unseen.removeValue(forKey: key) != value {
                    report.mismatches.append("allocation \(readable(key)): stored, but its entries differ or are missing")
                }
            }
        }
        for key in unseen.keys { report.mismatches.append("allocation \(readable(key)): missing") }
        var holds = try channelHolds(names: names, schema: schema, transaction: transaction)
        if let database = schema.channelHolds {
            let cursor = try transaction.cursor(database)
            var record = try cursor.first()
            while let (key, value) = record {
                record = try cursor.next()
                let stored = try Records.decodeHeld(value)
                let folded = holds.removeValue(forKey: key) ?? 0
                if stored != folded {
                    report.mismatches.append("channel hold \(readable(key)): stored \(stored), entries sum to \(folded)")
                }
            }
        }
        for (key, folded) in holds { report.mismatches.append("channel hold \(readable(key)): missing, entries sum to \(folded)") }
    }

    private mutating func comparePositions(schema: Schema, transaction: borrowing ReadTransaction) throws {
        var unseen = positions
        let cursor = try transaction.cursor(schema.positions)
        var record = try cursor.first()
        while let (key, value) = record {
            record = try cursor.next()
            report.positions += 1
            guard let (sku, node) = Keys.decodePosition(key),
                let stored = value.withUnsafeBytes({ Records.decodePosition($0) })
            else {
                report.mismatches.append("malformed position record")
                continue
            }
            let word = Keys.positionWord(sku: sku, node: node)
            let folded = unseen.removeValue(forKey: word) ?? .zero
            if stored != folded {
                report.mismatches.append(
                    "position \(names.key(sku: sku, node: node)): stored \(stored), entries sum to \(folded)")
            }
        }
        for (word, folded) in unseen where folded != .zero {
            let key = names.key(sku: UInt32(word >> 32), node: UInt32(truncatingIfNeeded: word))
            report.mismatches.append("position \(key): missing, entries sum to \(folded)")
        }
    }

    private mutating func compareReservations(schema: Schema, transaction: borrowing ReadTransaction) throws {
        var unseen = reservations
        let cursor = try transaction.cursor(schema.reservations)
        var record = try cursor.first()
        while let (key, value) = record {
            record = try cursor.next()
            report.reservations += 1
            let order = String(decoding: key, as: UTF8.self)
            let stored = try Records.decodeReservationRecord(value)
            let folded = unseen.removeValue(forKey: order)
            if stored != folded {
                report.mismatches.append(
                    "reservation \(order): stored \(stored), entries give \(folded.map { "\($0)" } ?? "none")")
            }
        }
        for order in unseen.keys.sorted() { report.mismatches.append("reservation \(order): missing") }

        var expected = Set(reservations.values.filter { $0.state == .reserved }.map { Keys.expiry($0.expiresAt, order: $0.order) })
        let expiries = try transaction.cursor(schema.expiries)
        record = try expiries.first()
        while let (key, _) = record {
            record = try expiries.next()
            if expected.remove(key) == nil {
                let order = Keys.decodeExpiry(key).map(\.1) ?? "?"
                report.mismatches.append("expiry index holds \(order), which is not an open reservation")
            }
        }
        for key in expected {
            report.mismatches.append("expiry index lacks \(Keys.decodeExpiry(key).map(\.1) ?? "?")")
        }
    }

    private mutating func compareReceipts(schema: Schema, transaction: borrowing ReadTransaction) throws {
        var unseen = receipts
        let cursor = try transaction.cursor(schema.receipts)
        var record = try cursor.first()
        while let (key, value) = record {
            record = try cursor.next()
            report.receipts += 1
            let id = String(decoding: key, as: UTF8.self)
            let stored = try Records.decodeReceiptRecord(value)
            if stored != unseen.removeValue(forKey: id) {
                report.mismatches.append("receipt \(id): stored \(stored) differs from its entries")
            }
        }
        for id in unseen.keys.sorted() { report.mismatches.append("receipt \(id): missing") }
        if try transaction.count(schema.receiptsByPosition) != report.receipts {
            report.mismatches.append("the receipt index and the receipts differ in size")
        }
        // The index holds each receipt's units not yet promised: what ATP by date counts.
        let index = try transaction.cursor(schema.receiptsByPosition)
        record = try index.first()
        while let (key, value) = record {
            record = try index.next()
            guard key.count > 16 else { continue }
            let id = String(decoding: key[16...], as: UTF8.self)
            let indexed = try value.decode("receipt quantity") { (reader) throws(FulcrumError) in try reader.read(Int64.self) }
            if let receipt = receipts[id], indexed != receipt.open {
                report.mismatches.append("receipt index \(id): \(indexed) open units, entries give \(receipt.open)")
            }
        }
    }
}
