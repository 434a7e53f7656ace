import FulcrumCore
import FulcrumStorage

/// Answers availability questions from LMDB snapshots: no lock, no wait for
/// the writer. Each read sees one committed state.
///
/// Owns one reusable read transaction (reset between reads, so it keeps its
/// reader slot) and a cache of interned ids, which never change once assigned.
/// Not thread-safe: one reader per thread (it may move between threads).
public final class LedgerReader {
    private let ledger: Ledger
    private let slot: ReaderGate.Slot
    // A reader is confined to one thread at a time (it is not Sendable), so
    // the runtime's exclusivity checks on these fields only cost time.
    @exclusivity(unchecked) private var transaction: ReadTransaction
    @exclusivity(unchecked) private var nodeIDs: [String: UInt32] = [:]
    @exclusivity(unchecked) private var skuIDs: [String: UInt32] = [:]
    @exclusivity(unchecked) private var nodeNames: [UInt32: String] = [:]
    @exclusivity(unchecked) private var skuNames: [UInt32: String] = [:]
    /// Position keys already resolved: one hash per read on the hot path.
    @exclusivity(unchecked) private var positionWords: [PositionKey: UInt64] = [:]

    init(ledger: Ledger) throws(FulcrumError) {
        self.ledger = ledger
        slot = ledger.gate.register()
        do {
            transaction = try ReadTransaction(ledger.environment)
        } catch LMDBError.readersFull {
            ledger.gate.unregister(slot)
            throw FulcrumError(
                .storage, "no LMDB reader slot is free (readers full: \(ledger.environment.options.maxReaders) in use)",
                path: ledger.directory)
        } catch {
            ledger.gate.unregister(slot)
            throw FulcrumError(.storage, "\(error)", path: ledger.directory)
        }
        transaction.reset()
    }

    deinit {
        ledger.gate.unregister(slot)
    }

    /// Runs `body` on a fresh snapshot of the latest committed state.
    @inline(__always)
    private func snapshot<R>(_ body: (borrowing ReadTransaction) throws -> R) throws(FulcrumError) -> R {
        ledger.gate.enter(slot)
        defer { ledger.gate.exit(slot) }
        do {
            try transaction.renew()
            defer { transaction.reset() }
            return try body(transaction)
        } catch {
            throw ledger.integrity.error(error)
        }
    }

    /// The stock of `sku` at `node` (all zero when never stocked).
    public func position(node: String, sku: String) throws(FulcrumError) -> Position {
        try snapshot { transaction in try position(node: node, sku: sku, in: transaction) }
    }

    /// Positions of many pairs, all from one snapshot.
    public func positions(_ keys: [PositionKey]) throws(FulcrumError) -> [Position] {
        try snapshot { transaction in
            try keys.map { key in try position(node: key.node, sku: key.sku, in: transaction) }
        }
    }

    /// The on hand of each pair as it stood at `asOf` (now without one):
    /// today's less the changes entries made since, from one snapshot. For
    /// reconciling a count taken then.
    public func onHand(_ keys: [PositionKey], asOf: Timestamp?) throws(FulcrumError) -> [Int64] {
        try snapshot { transaction in
            var words: [UInt64?] = []
            var onHand: [Int64] = []
            for key in keys {
                words.append(try positionWord(key, in: transaction))
                onHand.append(try position(node: key.node, sku: key.sku, in: transaction).onHand)
            }
            guard let asOf else { return onHand }
            let changes = try Entry.onHandChanges(
                Set(words.compactMap { $0 }), after: asOf, schema: ledger.schema, in: transaction)
            return zip(onHand, words).map { onHand, word in onHand - (word.flatMap { changes[$0] } ?? 0) }
        }
    }

    /// Available-to-promise of `sku` at `node` to a reservation of
    /// `channel` (empty: none): available now under the channels'
    /// allocations, plus scheduled receipts due on or before `date` when one is given.
    public func availableToPromise(node: String, sku: String, on date: Timestamp? = nil, channel: String = "")
        throws(FulcrumError) -> Int64
    {
        try snapshot { transaction in
            let position = try position(node: node, sku: sku, in: transaction)
            guard let nodeID = try id(.node, node, in: transaction), let skuID = try id(.sku, sku, in: transaction)
            else { return position.available }
            var available = position.available
            if let allocations = try allocationsInForce(sku: skuID, in: transaction) {
                available = try allocations.availability(node: nodeID, position, reader: self, in: transaction)
                    .available(to: channel)
            }
            guard let date else { return available }
            return available + (try scheduled(sku: skuID, node: nodeID, by: date, in: transaction))
        }
    }

    /// Available-to-promise of `sku` at every node that has stocked it (or
    /// has receipts due by `date`), in node id order.
    public func availableToPromise(sku: String, on date: Timestamp? = nil, channel: String = "") throws(FulcrumError)
        -> [(node: String, available: Int64)]
    {
        try snapshot { transaction in
            try availableToPromise(sku: sku, on: date, channel: channel, in: transaction).map { row in
                (try name(ofNode: row.node, in: transaction), row.available)
            }
        }
    }

    /// Available-to-promise now of each of `skus` at every node that has
    /// stocked it, all from one snapshot: in the order of `skus`, each in
    /// node id order.
    public func availableToPromise(skus: [String], channel: String = "") throws(FulcrumError)
        -> [(sku: String, node: String, available: Int64)]
    {
        try snapshot { transaction in
            var rows: [(sku: String, node: String, available: Int64)] = []
            for sku in skus {
                for row in try availableToPromise(sku: sku, on: nil, channel: channel, in: transaction) {
                    rows.append((sku, try name(ofNode: row.node, in: transaction), row.available))
                }
            }
            return rows
        }
    }

    private func availableToPromise(sku: String, on date: Timestamp?, channel: String, in transaction: borrowing ReadTransaction)
        throws -> [(node: UInt32, available: Int64)]
    {
        guard let skuID = try id(.sku, sku, in: transaction) else { return [] }
        let allocations = try allocationsInForce(sku: skuID, in: transaction)
        var rows: [(node: UInt32, available: Int64)] = []
        // The SKU's positions in key order (node ids ascending), read in place.
        func visit(_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) -> (node: UInt32, position: Position?)? {
            guard key.count == 8 else { return nil }
            let word = UInt64(bigEndian: key.loadUnaligned(as: UInt64.self))
            guard UInt32(word >> 32) == skuID else { return nil }
            return (UInt32(truncatingIfNeeded: word), Records.decodePosition(value))
        }
        let cursor = try transaction.cursor(ledger.schema.positions)
        var record = try cursor.withRecord(atLeast: Keys.position(sku: skuID, node: 0), visit)
        while let visited = record, let (node, position) = visited {
            guard let position else { throw FulcrumError(.corrupt, "position record has the wrong size", path: sku) }
            let available =
                try allocations?.availability(node: node, position, reader: self, in: transaction).available(to: channel)
                ?? position.available
            rows.append((node, available))
            record = try cursor.withNext(visit)
        }
        guard let date else { return rows }
        var byNode = Dictionary(uniqueKeysWithValues: rows.map { ($0.node, $0.available) })
        for node in try nodesWithReceipts(sku: skuID, in: transaction) {
            byNode[node, default: 0] += try scheduled(sku: skuID, node: node, by: date, in: transaction)
        }
        return byNode.keys.sorted().map { ($0, byNode[$0]!) }
    }

    /// The reservation held for `order`, in any state, or nil.
    public func reservation(order: String) throws(FulcrumError) -> Reservation? {
        try snapshot { transaction in
            guard let bytes = try transaction.value(ledger.schema.reservations, key: Names.keyBytes(order)) else {
                return nil
            }
            return Self.asOf(ledger.clock.now(), try Records.decodeReservationRecord(bytes))
        }
    }

    /// A reservation as it stands at `now`: one whose time to live has passed
    /// is expired even before the writer's sweep records it, so a read never
    /// calls a lapsed reservation `reserved` (its stock is held until the sweep).
    private static func asOf(_ now: Timestamp, _ reservation: Reservation) -> Reservation {
        guard reservation.state == .reserved, reservation.expiresAt <= now else { return reservation }
        var lapsed = reservation
        lapsed.state = .expired
        lapsed.updatedAt = reservation.expiresAt
        return lapsed
    }

    /// The scheduled (not yet received) receipt with this id, or nil.
    public func receipt(_ receipt: String) throws(FulcrumError) -> ScheduledReceipt? {
        try snapshot { transaction in
            guard let bytes = try transaction.value(ledger.schema.receipts, key: Names.keyBytes(receipt)) else {
                return nil
            }
            return try Records.decodeReceiptRecord(bytes)
        }
    }

    /// The stored result of the command first sent with `idempotencyKey`, or
    /// nil when no command with that key has been applied.
    public func result(idempotencyKey: String) throws(FulcrumError) -> LedgerResult? {
        try snapshot { transaction in
            guard let bytes = try transaction.value(ledger.schema.idempotency, key: Names.keyBytes(idempotencyKey)) else {
                return nil
            }
            return try IdempotencyCodec.decodeRecord(bytes).result
        }
    }

    /// The record stored under `key` by a `RecordBatch`, or nil.
    public func record(_ key: [UInt8]) throws(FulcrumError) -> [UInt8]? {
        try snapshot { transaction in
            guard let records = ledger.schema.records else { return nil }
            return try transaction.value(records, key: key)
        }
    }

    /// The records under `keys`, all from one snapshot (nil where none).
    public func records(_ keys: [[UInt8]]) throws(FulcrumError) -> [[UInt8]?] {
        try snapshot { transaction in
            guard let records = ledger.schema.records else { return keys.map { _ in nil } }
            return try keys.map { key in try transaction.value(records, key: key) }
        }
    }

    /// Records whose keys start with `prefix`, in key order, after `after`
    /// (exclusive) when given, at most `limit`; `reverse` lists from the last.
    public func records(prefix: [UInt8], after: [UInt8]? = nil, limit: Int, reverse: Bool = false)
        throws(FulcrumError) -> [(key: [UInt8], value: [UInt8])]
    {
        precondition(limit >= 0)
        return try snapshot { transaction in
            guard let database = ledger.schema.records else { return [] }
            let cursor = try transaction.cursor(database)
            var listed: [(key: [UInt8], value: [UInt8])] = []
            var record: Cursor.Record?
            if reverse {
                // The first key past every key with this prefix, then one back.
                record = try Self.successor(of: prefix).map { try cursor.seek(atLeast: $0) } ?? nil
                record = record == nil ? try cursor.last() : try cursor.previous()
            } else {
                record = try cursor.seek(atLeast: after ?? prefix)
                if let after, let found = record, found.key == after { record = try cursor.next() }
            }
            while let found = record, found.key.starts(with: prefix), listed.count < limit {
                listed.append(found)
                record = try reverse ? cursor.previous() : cursor.next()
            }
            return listed
        }
    }

    /// The smallest byte string greater than every string starting with `prefix`; nil when none is.
    private static func successor(of prefix: [UInt8]) -> [UInt8]? {
        var bytes = prefix
        while let last = bytes.popLast() {
            if last < 0xFF { return bytes + [last + 1] }
        }
        return nil
    }

    /// Counts for `Stats`: positions, reservations, entries, receipts.
    public func counts() throws(FulcrumError) -> (positions: Int, reservations: Int, entries: Int, receipts: Int) {
        try snapshot { transaction in
            let schema = ledger.schema
            return (
                try transaction.count(schema.positions), try transaction.count(schema.reservations),
                try transaction.count(schema.entries), try transaction.count(schema.receipts)
            )
        }
    }

    /// Reservations in order-id order after `after` (exclusive; a valid
    /// name, see `Names`), at most `limit`, only those in `state` when given.
    public func reservations(state: ReservationState? = nil, after: String? = nil, limit: Int) throws(FulcrumError)
        -> [Reservation]
    {
        precondition(limit >= 0)
        if let after { try Names.validate(after, path: "after") }
        var listed: [Reservation] = []
        try scanReservations(after: after) { reservation in
            if state == nil || reservation.state == state { listed.append(reservation) }
            return listed.count < limit
        }
        return listed
    }

    /// Channels' allocations in `sku` order then node (every node first),
    /// those of `sku` and of `channel` when given, at most `limit`; expired
    /// ones too (they protect nothing: `isActive`).
    public func allocations(sku: String? = nil, channel: String? = nil, limit: Int) throws(FulcrumError) -> [Allocation] {
        precondition(limit >= 0)
        if let sku { try Names.validate(sku, path: "sku") }
        if let channel { try Names.validate(channel, path: "channel") }
        return try snapshot { transaction in
            guard let database = ledger.schema.allocations else { return [] }
            var prefix: [UInt8] = []
            if let sku {
                guard let skuID = try id(.sku, sku, in: transaction) else { return [] }
                prefix = Array(Keys.position(sku: skuID, node: 0).prefix(4))
            }
            var listed: [Allocation] = []
            let cursor = try transaction.cursor(database)
            var record = try prefix.isEmpty ? cursor.first() : cursor.seek(atLeast: prefix)
            while let (key, value) = record, key.starts(with: prefix), listed.count < limit {
                record = try cursor.next()
                guard let (skuID, nodeID, recordChannel) = Keys.decodeChannel(key) else {
                    throw FulcrumError(.corrupt, "malformed allocation key")
                }
                if let channel, channel != recordChannel { continue }
                let node = nodeID == 0 ? Allocation.everyNode : try name(.node, nodeID, in: transaction)
                listed.append(
                    try Records.decodeAllocation(
                        value, sku: try name(.sku, skuID, in: transaction), node: node, channel: recordChannel))
            }
            return listed
        }
    }

    /// Receipts not yet received (purchase orders, transfers in transit) in
    /// id order after `after`, those due at `node` when given, at most `limit`.
    public func receipts(node: String? = nil, after: String? = nil, limit: Int) throws(FulcrumError) -> [ScheduledReceipt] {
        precondition(limit >= 0)
        if let node { try Names.validate(node, path: "node") }
        if let after { try Names.validate(after, path: "after") }
        return try snapshot { transaction in
            var listed: [ScheduledReceipt] = []
            let cursor = try transaction.cursor(ledger.schema.receipts)
            var record = try after.map { try cursor.seek(atLeast: Names.keyBytes($0)) } ?? cursor.first()
            if let after, let (key, _) = record, key == Names.keyBytes(after) { record = try cursor.next() }
            while let (_, value) = record, listed.count < limit {
                let receipt = try Records.decodeReceiptRecord(value)
                if node == nil || receipt.node == node { listed.append(receipt) }
                record = try cursor.next()
            }
            return listed
        }
    }

    /// Receipts of `sku` not yet received, at most `limit`, by node then due date.
    public func receipts(sku: String, limit: Int) throws(FulcrumError) -> [ScheduledReceipt] {
        precondition(limit >= 0)
        try Names.validate(sku, path: "sku")
        return try snapshot { transaction in
            guard let skuID = try id(.sku, sku, in: transaction) else { return [] }
            let prefix = Array(Keys.position(sku: skuID, node: 0).prefix(4))
            var listed: [ScheduledReceipt] = []
            let cursor = try transaction.cursor(ledger.schema.receiptsByPosition)
            var record = try cursor.seek(atLeast: prefix)
            while let (key, _) = record, key.starts(with: prefix), key.count > 16, listed.count < limit {
                record = try cursor.next()
                guard let bytes = try transaction.value(ledger.schema.receipts, key: Array(key[16...])) else {
                    throw FulcrumError(.corrupt, "the receipt index names a missing receipt", path: sku)
                }
                listed.append(try Records.decodeReceiptRecord(bytes))
            }
            return listed
        }
    }

    /// Positions in storage order (by SKU, then node), those at `node` and
    /// of SKUs containing `skuContaining` when given, at most `limit`.
    public func positions(node: String? = nil, skuContaining: String? = nil, limit: Int) throws(FulcrumError)
        -> [(key: PositionKey, position: Position)]
    {
        precondition(limit >= 0)
        if let node { try Names.validate(node, path: "node") }
        return try snapshot { transaction in
            let nodeID = try node.map { try id(.node, $0, in: transaction) }
            if node != nil, nodeID == nil { return [] }
            var listed: [(key: PositionKey, position: Position)] = []
            let cursor = try transaction.cursor(ledger.schema.positions)
            var record = try cursor.first()
            while let (key, value) = record, listed.count < limit {
                record = try cursor.next()
                guard let (skuID, recordNode) = Keys.decodePosition(key) else { continue }
                if let nodeID, recordNode != nodeID { continue }
                let sku = try name(.sku, skuID, in: transaction)
                if let skuContaining, !sku.contains(skuContaining) { continue }
                guard let position = value.withUnsafeBytes({ Records.decodePosition($0) }) else {
                    throw FulcrumError(.corrupt, "position record has the wrong size", path: sku)
                }
                listed.append((PositionKey(node: try name(.node, recordNode, in: transaction), sku: sku), position))
            }
            return listed
        }
    }

    /// How many reservations are in each state (a scan of them all).
    public func reservationCounts() throws(FulcrumError) -> [ReservationState: Int] {
        var counts: [ReservationState: Int] = [:]
        try scanReservations(after: nil) { reservation in
            counts[reservation.state, default: 0] += 1
            return true
        }
        return counts
    }

    /// Calls `body` with each reservation after `after` in order-id order, on
    /// one snapshot, until it returns false.
    private func scanReservations(after: String?, _ body: (Reservation) -> Bool) throws(FulcrumError) {
        let now = ledger.clock.now()
        try snapshot { transaction in
            let cursor = try transaction.cursor(ledger.schema.reservations)
            let start = after.map(Names.keyBytes)
            var record = try start.map { try cursor.seek(atLeast: $0) } ?? cursor.first()
            while let (key, value) = record {
                record = try cursor.next()
                if key == start { continue }
                let reservation = Self.asOf(now, try Records.decodeReservationRecord(value))
                if !body(reservation) { return }
            }
        }
    }

    // MARK: Inside a snapshot

    @inline(__always)
    private func position(node: String, sku: String, in transaction: borrowing ReadTransaction) throws -> Position {
        guard let word = try positionWord(PositionKey(node: node, sku: sku), in: transaction) else { return .zero }
        let stored: Position??
        do {
            stored = try withUnsafeBytes(of: word.bigEndian) { key in
                try transaction.withValue(ledger.schema.positions, key: key) { Records.decodePosition($0) }
            }
        } catch let error as LMDBError where error.code == LMDBError.checksumMismatch.code {
            throw ledger.integrity.error(error, record: "\(node)/\(sku)")
        }
        switch stored {
        case .none: return .zero
        case .some(.none): throw FulcrumError(.corrupt, "position record has the wrong size", path: "\(node)/\(sku)")
        case .some(.some(let position)): return position
        }
    }

    private func positionWord(_ key: PositionKey, in transaction: borrowing ReadTransaction) throws -> UInt64? {
        if let cached = positionWords[key] { return cached }
        guard let nodeID = try id(.node, key.node, in: transaction), let skuID = try id(.sku, key.sku, in: transaction)
        else { return nil }
        let word = Keys.positionWord(sku: skuID, node: nodeID)
        positionWords[key] = word
        return word
    }

    private func id(_ kind: NameKind, _ name: String, in transaction: borrowing ReadTransaction) throws -> UInt32? {
        if let cached = kind == .node ? nodeIDs[name] : skuIDs[name] { return cached }
        guard let bytes = try transaction.value(ledger.schema.names, key: Keys.name(kind, name)), bytes.count == 4
        else { return nil }
        let id = bytes.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self)) }
        switch kind {
        case .node: nodeIDs[name] = id
        case .sku: skuIDs[name] = id
        }
        return id
    }

    private func name(ofNode id: UInt32, in transaction: borrowing ReadTransaction) throws -> String {
        try name(.node, id, in: transaction)
    }

    private func name(_ kind: NameKind, _ id: UInt32, in transaction: borrowing ReadTransaction) throws -> String {
        if let cached = kind == .node ? nodeNames[id] : skuNames[id] { return cached }
        guard let bytes = try transaction.value(ledger.schema.ids, key: Keys.id(kind, id)) else {
            throw FulcrumError(.corrupt, "\(kind) id \(id) has no name")
        }
        let name = String(decoding: bytes, as: UTF8.self)
        switch kind {
        case .node: nodeNames[id] = name
        case .sku: skuNames[id] = name
        }
        return name
    }

    /// The allocations of a SKU in force now, by node id (0: every node), or
    /// nil when it has none (the common case: one cursor seek).
    private func allocationsInForce(sku: UInt32, in transaction: borrowing ReadTransaction) throws -> AllocationsInForce? {
        guard let database = ledger.schema.allocations, try transaction.count(database) > 0 else { return nil }
        let prefix = Array(Keys.position(sku: sku, node: 0).prefix(4))
        let now = ledger.clock.now()
        var byNode: [UInt32: [String: Allocation]] = [:]
        let cursor = try transaction.cursor(database)
        var record = try cursor.seek(atLeast: prefix)
        while let (key, value) = record, key.starts(with: prefix) {
            record = try cursor.next()
            guard let (_, node, channel) = Keys.decodeChannel(key) else { throw FulcrumError(.corrupt, "malformed allocation key") }
            let allocation = try Records.decodeAllocation(value, sku: "", node: "", channel: channel)
            if allocation.isActive(at: now) { byNode[node, default: [:]][channel] = allocation }
        }
        return byNode.isEmpty ? nil : AllocationsInForce(sku: sku, byNode: byNode)
    }

    /// A SKU's active allocations, read once for a whole ATP answer.
    private struct AllocationsInForce {
        let sku: UInt32
        let byNode: [UInt32: [String: Allocation]]

        func availability(node: UInt32, _ position: Position, reader: LedgerReader, in transaction: borrowing ReadTransaction)
            throws -> ChannelAvailability
        {
            let inForce = (byNode[0] ?? [:]).merging(byNode[node] ?? [:]) { _, own in own }
            var held: [String: Int64] = [:]
            if let holds = reader.ledger.schema.channelHolds {
                for channel in inForce.keys {
                    held[channel] =
                        try transaction.value(holds, key: Keys.channel(sku: sku, node: node, channel: channel))
                        .map { try Records.decodeHeld($0) } ?? 0
                }
            }
            return ChannelAvailability(position: position, allocations: inForce, held: held)
        }
    }

    private func scheduled(sku: UInt32, node: UInt32, by date: Timestamp, in transaction: borrowing ReadTransaction)
        throws -> Int64
    {
        let prefix = Keys.position(sku: sku, node: node)
        let cursor = try transaction.cursor(ledger.schema.receiptsByPosition)
        var total: Int64 = 0
        var record = try cursor.seek(atLeast: prefix)
        while let (key, value) = record, key.starts(with: prefix), let due = Keys.decodeReceiptDue(key), due <= date {
            total += try value.decode("receipt quantity") { (reader) throws(FulcrumError) in try reader.read(Int64.self) }
            record = try cursor.next()
        }
        return total
    }

    private func nodesWithReceipts(sku: UInt32, in transaction: borrowing ReadTransaction) throws -> [UInt32] {
        let prefix = Keys.position(sku: sku, node: 0).prefix(4)
        let cursor = try transaction.cursor(ledger.schema.receiptsByPosition)
        var nodes: [UInt32] = []
        var record = try cursor.seek(atLeast: Array(prefix))
        while let (key, _) = record, key.starts(with: prefix), let (_, node) = Keys.decodePosition(Array(key.prefix(8))) {
            if nodes.last != node { nodes.append(node) }
            record = try cursor.next()
        }
        return nodes
    }
}
