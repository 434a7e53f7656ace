import FulcrumCore
import FulcrumStorage

/// The named LMDB databases of a ledger, and the layout of their keys.
/// All multi-byte key fields are big-endian so that byte order is numeric order.
struct Schema: Sendable {
    static let formatKey: [UInt8] = Array("format".utf8)
    static let formatMagic = "fulcrum-ledger"
    /// 2: every value ends in a checksum (`Checksum`). Version 1 ledgers are
    /// upgraded in place when opened for writing.
    static let formatVersion: UInt32 = 2
    /// A replica's position in its cluster's log (meta): the last entry applied.
    static let appliedSequenceKey: [UInt8] = Array("applied_sequence".utf8)

    static func encodeSequence(_ sequence: UInt64) -> [UInt8] {
        var writer = ByteWriter(capacity: 8)
        writer.write(sequence)
        return writer.bytes
    }

    static func decodeSequence(_ bytes: [UInt8]) -> UInt64? {
        try? bytes.decode("applied sequence") { (reader) throws(FulcrumError) in try reader.read(UInt64.self) }
    }

    let meta: Database
    /// kind byte + name → UInt32 id (little-endian).
    let names: Database
    /// kind byte + UInt32 id (big-endian) → name.
    let ids: Database
    /// sku id + node id → Position (four Int64). SKU first: ATP by SKU is a prefix scan.
    let positions: Database
    /// order id → reservation record.
    let reservations: Database
    /// expiry time + order id → empty: unconfirmed reservations by deadline.
    let expiries: Database
    /// receipt id → scheduled receipt record.
    let receipts: Database
    /// sku id + node id + due time + receipt id → quantity: receipts by position and date.
    let receiptsByPosition: Database
    /// sequence number → entry: the append-only log every balance is folded from.
    let entries: Database
    /// idempotency key → encoded command + encoded result.
    let idempotency: Database
    /// Records of the modules above the ledger (`RecordBatch`), keyed by them.
    /// Created on first open for writing, so ledgers made before it gain it.
    let records: Database?
    /// sku id + node id (0: every node) + channel → allocation record.
    /// Created on first open for writing, like `records`.
    let allocations: Database?
    /// sku id + node id + channel → Int64: units the channel's reservations
    /// hold (reserved or committed) at the position, against its allocation.
    let channelHolds: Database?

    init(environment: Environment, create: Bool, writable: Bool) throws(LMDBError) {
        func open(_ name: String) throws(LMDBError) -> Database {
            try environment.openDatabase(name, create: create)
        }
        meta = try open("meta")
        names = try open("names")
        ids = try open("ids")
        positions = try open("positions")
        reservations = try open("reservations")
        expiries = try open("expiries")
        receipts = try open("receipts")
        receiptsByPosition = try open("receipts_by_position")
        entries = try open("entries")
        idempotency = try open("idempotency")
        func openAdded(_ name: String) throws(LMDBError) -> Database? {
            do {
                return try environment.openDatabase(name, create: writable)
            } catch LMDBError.notFound {
                return nil
            }
        }
        records = try openAdded("records")
        allocations = try openAdded("allocations")
        channelHolds = try openAdded("channel_holds")
    }

    /// Every database, for whole-file passes (upgrade, checksum scans).
    var all: [Database] {
        [meta, names, ids, positions, reservations, expiries, receipts, receiptsByPosition, entries, idempotency]
            + [records, allocations, channelHolds].compactMap { $0 }
    }

    static func formatRecord(version: UInt32 = formatVersion) -> [UInt8] {
        var writer = ByteWriter()
        writer.write(formatMagic)
        writer.write(version)
        return writer.bytes
    }
}

/// Whether an interned name is a node or a SKU.
enum NameKind: UInt8, Sendable {
    case node = 1
    case sku = 2
}

/// Key encodings.
enum Keys {
    static func name(_ kind: NameKind, _ name: String) -> [UInt8] {
        [kind.rawValue] + Names.keyBytes(name)
    }

    static func id(_ kind: NameKind, _ id: UInt32) -> [UInt8] {
        var key: [UInt8] = [kind.rawValue]
        appendBigEndian(id, to: &key)
        return key
    }

    /// The 8-byte position key as one integer (sku high, node low), so hot
    /// reads can build it on the stack.
    static func positionWord(sku: UInt32, node: UInt32) -> UInt64 {
        UInt64(sku) << 32 | UInt64(node)
    }

    static func position(sku: UInt32, node: UInt32) -> [UInt8] {
        var key: [UInt8] = []
        appendBigEndian(positionWord(sku: sku, node: node), to: &key)
        return key
    }

    static func decodePosition(_ key: [UInt8]) -> (sku: UInt32, node: UInt32)? {
        guard key.count == 8 else { return nil }
        let word = readBigEndian(UInt64.self, key, at: 0)
        return (UInt32(word >> 32), UInt32(truncatingIfNeeded: word))
    }

    static func expiry(_ at: Timestamp, order: String) -> [UInt8] {
        var key: [UInt8] = []
        appendBigEndian(orderable(at), to: &key)
        return key + Names.keyBytes(order)
    }

    static func decodeExpiry(_ key: [UInt8]) -> (Timestamp, String)? {
        guard key.count > 8 else { return nil }
        let at = Timestamp(millisecondsSinceEpoch: Int64(bitPattern: readBigEndian(UInt64.self, key, at: 0) ^ (1 << 63)))
        return (at, String(decoding: key[8...], as: UTF8.self))
    }

    static func receiptByPosition(sku: UInt32, node: UInt32, due: Timestamp, receipt: String) -> [UInt8] {
        var key = position(sku: sku, node: node)
        appendBigEndian(orderable(due), to: &key)
        return key + Names.keyBytes(receipt)
    }

    static func decodeReceiptDue(_ key: [UInt8]) -> Timestamp? {
        guard key.count > 16 else { return nil }
        return Timestamp(millisecondsSinceEpoch: Int64(bitPattern: readBigEndian(UInt64.self, key, at: 8) ^ (1 << 63)))
    }

    /// An allocation's or a channel hold's key: the position (node 0 for
    /// every node), then the channel.
    static func channel(sku: UInt32, node: UInt32, channel: String) -> [UInt8] {
        position(sku: sku, node: node) + Names.keyBytes(channel)
    }

    static func decodeChannel(_ key: [UInt8]) -> (sku: UInt32, node: UInt32, channel: String)? {
        guard key.count > 8, let (sku, node) = decodePosition(Array(key[0..<8])) else { return nil }
        return (sku, node, String(decoding: key[8...], as: UTF8.self))
    }

    static func entry(_ sequence: UInt64) -> [UInt8] {
        var key: [UInt8] = []
        appendBigEndian(sequence, to: &key)
        return key
    }

    /// Flips the sign bit so that signed times sort as unsigned big-endian bytes.
    private static func orderable(_ at: Timestamp) -> UInt64 {
        UInt64(bitPattern: at.millisecondsSinceEpoch) ^ (1 << 63)
    }

    static func appendBigEndian<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }

    static func readBigEndian<T: FixedWidthInteger>(_: T.Type, _ bytes: [UInt8], at offset: Int) -> T {
        bytes.withUnsafeBytes { T(bigEndian: $0.loadUnaligned(fromByteOffset: offset, as: T.self)) }
    }
}

extension Keys {
    /// A stored key as text, for `corrupt` errors: names and numbers where the
    /// key holds them, `#id` for interned ids, hex for anything else.
    static func readable(database: String, key: [UInt8]) -> String {
        switch database {
        case "positions":
            if let (sku, node) = decodePosition(key) { return "node #\(node)/sku #\(sku)" }
        case "allocations", "channel_holds":
            if let (sku, node, channel) = decodeChannel(key) { return "node #\(node)/sku #\(sku)/\(channel)" }
        case "entries" where key.count == 8:
            return "\(readBigEndian(UInt64.self, key, at: 0))"
        case "reservations", "receipts", "idempotency", "records", "meta":
            if let text = String(validating: key, as: UTF8.self) { return text }
        default: break
        }
        return Checksum.hex(key)
    }
}

/// Record encodings (values).
enum Records {
    static let positionBytes = 32

    static func encode(_ position: Position) -> [UInt8] {
        var writer = ByteWriter(capacity: positionBytes)
        writer.write(position.onHand)
        writer.write(position.reserved)
        writer.write(position.committed)
        writer.write(position.safetyStock)
        return writer.bytes
    }

    /// Decodes a stored position without allocating (the ATP hot path).
    @inline(__always)
    static func decodePosition(_ raw: UnsafeRawBufferPointer) -> Position? {
        guard raw.count == positionBytes else { return nil }
        return Position(
            onHand: Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 0, as: Int64.self)),
            reserved: Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8, as: Int64.self)),
            committed: Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 16, as: Int64.self)),
            safetyStock: Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 24, as: Int64.self)))
    }

    static func encode(_ reservation: Reservation, into writer: inout ByteWriter) {
        writer.write(reservation.order)
        writer.write(reservation.state.rawValue)
        writer.write(reservation.createdAt.millisecondsSinceEpoch)
        writer.write(reservation.expiresAt.millisecondsSinceEpoch)
        writer.write(reservation.updatedAt.millisecondsSinceEpoch)
        writer.write(UInt16(reservation.lines.count))
        for line in reservation.lines {
            writer.write(line.node)
            writer.write(line.sku)
            writer.write(line.quantity)
        }
    }

    /// The stored record: a channel and the lines' receipts (preorders)
    /// follow the fields every reservation has, only when it has them, so
    /// older records read unchanged.
    static func encode(_ reservation: Reservation) -> [UInt8] {
        var writer = ByteWriter()
        encode(reservation, into: &writer)
        if hasExtras(reservation) { encodeExtras(reservation, into: &writer) }
        return writer.bytes
    }

    static func hasExtras(_ reservation: Reservation) -> Bool {
        !reservation.channel.isEmpty || reservation.lines.contains { !$0.receipt.isEmpty }
    }

    /// The channel, then each line's receipt when any line has one.
    static func encodeExtras(_ reservation: Reservation, into writer: inout ByteWriter) {
        writer.write(reservation.channel)
        guard reservation.lines.contains(where: { !$0.receipt.isEmpty }) else { return }
        writer.write(UInt16(reservation.lines.count))
        for line in reservation.lines { writer.write(line.receipt) }
    }

    /// Reads what `encodeExtras` wrote, at the end of a record.
    static func decodeExtras(_ reservation: inout Reservation, _ reader: inout ByteReader) throws(FulcrumError) {
        reservation.channel = try reader.readString()
        guard !reader.isAtEnd else { return }
        guard Int(try reader.read(UInt16.self)) == reservation.lines.count else {
            throw FulcrumError(.corrupt, "a reservation's receipts do not match its lines", path: reservation.order)
        }
        for index in reservation.lines.indices { reservation.lines[index].receipt = try reader.readString() }
    }

    /// Reads a stored record (what `encode(_:)` wrote).
    static func decodeReservationRecord(_ bytes: [UInt8]) throws(FulcrumError) -> Reservation {
        try bytes.decode("reservation") { (reader) throws(FulcrumError) in
            var reservation = try decodeReservation(&reader)
            if !reader.isAtEnd { try decodeExtras(&reservation, &reader) }
            return reservation
        }
    }

    static func encodeHeld(_ units: Int64) -> [UInt8] {
        var writer = ByteWriter(capacity: 8)
        writer.write(units)
        return writer.bytes
    }

    static func decodeHeld(_ bytes: [UInt8]) throws(FulcrumError) -> Int64 {
        try bytes.decode("channel hold") { (reader) throws(FulcrumError) in try reader.read(Int64.self) }
    }

    static func encode(_ allocation: Allocation) -> [UInt8] {
        var writer = ByteWriter(capacity: 32)
        switch allocation.amount {
        case .quantity(let units): writer.write(UInt8(1)); writer.write(units)
        case .shareBasisPoints(let points): writer.write(UInt8(2)); writer.write(points)
        }
        writer.write(UInt8(allocation.overflow ? 1 : 0))
        writer.write(UInt8(allocation.expiresAt == nil ? 0 : 1))
        writer.write(allocation.expiresAt?.millisecondsSinceEpoch ?? 0)
        return writer.bytes
    }

    /// An allocation with its names (a logged command, an idempotent result).
    static func encodeNamed(_ allocation: Allocation, into writer: inout ByteWriter) {
        writer.write(allocation.sku)
        writer.write(allocation.node)
        writer.write(allocation.channel)
        writer.write(bytes: encode(allocation))
    }

    static func decodeNamedAllocation(_ reader: inout ByteReader) throws(FulcrumError) -> Allocation {
        let sku = try reader.readString()
        let node = try reader.readString()
        let channel = try reader.readString()
        return try decodeAllocation(try reader.readBytes(), sku: sku, node: node, channel: channel)
    }

    /// Reads an allocation record; its key gives the names.
    static func decodeAllocation(_ bytes: [UInt8], sku: String, node: String, channel: String) throws(FulcrumError) -> Allocation {
        try bytes.decode("allocation") { (reader) throws(FulcrumError) in
            let amount: Allocation.Amount
            switch try reader.read(UInt8.self) {
            case 1: amount = .quantity(try reader.read())
            case 2: amount = .shareBasisPoints(try reader.read())
            default: throw FulcrumError(.corrupt, "unknown allocation amount", path: "\(node)/\(sku)/\(channel)")
            }
            let overflow = try reader.read(UInt8.self) == 1
            let expires = try reader.read(UInt8.self) == 1
            let at = Timestamp(millisecondsSinceEpoch: try reader.read())
            return Allocation(sku: sku, node: node, channel: channel, amount: amount, overflow: overflow, expiresAt: expires ? at : nil)
        }
    }

    static func decodeReservation(_ reader: inout ByteReader) throws(FulcrumError) -> Reservation {
        let order = try reader.readString()
        guard let state = ReservationState(rawValue: try reader.read(UInt8.self)) else {
            throw FulcrumError(.corrupt, "unknown reservation state", path: order)
        }
        let createdAt = Timestamp(millisecondsSinceEpoch: try reader.read())
        let expiresAt = Timestamp(millisecondsSinceEpoch: try reader.read())
        let updatedAt = Timestamp(millisecondsSinceEpoch: try reader.read())
        let count = Int(try reader.read(UInt16.self))
        var lines: [ReservationLine] = []
        lines.reserveCapacity(count)
        for _ in 0..<count {
            let node = try reader.readString()
            let sku = try reader.readString()
            lines.append(ReservationLine(node: node, sku: sku, quantity: try reader.read()))
        }
        return Reservation(
            order: order, state: state, lines: lines, createdAt: createdAt, expiresAt: expiresAt, updatedAt: updatedAt)
    }

    static func encode(_ receipt: ScheduledReceipt, into writer: inout ByteWriter) {
        writer.write(receipt.receipt)
        writer.write(receipt.node)
        writer.write(receipt.sku)
        writer.write(receipt.quantity)
        writer.write(receipt.due.millisecondsSinceEpoch)
    }

    /// The stored record: a transfer's `fromNode`, then the preorders'
    /// promises, follow the fields every receipt has (only when present, so
    /// older records read unchanged).
    static func encode(_ receipt: ScheduledReceipt) -> [UInt8] {
        var writer = ByteWriter()
        encode(receipt, into: &writer)
        encodeTrailing(receipt, into: &writer)
        return writer.bytes
    }

    static func encodeTrailing(_ receipt: ScheduledReceipt, into writer: inout ByteWriter) {
        guard !receipt.fromNode.isEmpty || !receipt.promises.isEmpty else { return }
        writer.write(receipt.fromNode)
        guard !receipt.promises.isEmpty else { return }
        writer.write(UInt32(receipt.promises.count))
        for (order, quantity) in receipt.promises.sorted(by: { $0.key < $1.key }) {
            writer.write(order)
            writer.write(quantity)
        }
    }

    /// Reads what `encodeTrailing` wrote, at the end of a record.
    static func decodeTrailing(_ receipt: inout ScheduledReceipt, _ reader: inout ByteReader) throws(FulcrumError) {
        guard !reader.isAtEnd else { return }
        receipt.fromNode = try reader.readString()
        guard !reader.isAtEnd else { return }
        let count = Int(try reader.read(UInt32.self))
        for _ in 0..<count { receipt.promises[try reader.readString()] = try reader.read(Int64.self) }
    }

    /// The receipt index's value: the units not yet promised.
    static func encodeOpen(_ receipt: ScheduledReceipt) -> [UInt8] {
        var writer = ByteWriter(capacity: 8)
        writer.write(receipt.open)
        return writer.bytes
    }

    /// Reads what `encode(_:into:)` wrote (no `fromNode`).
    static func decodeReceipt(_ reader: inout ByteReader) throws(FulcrumError) -> ScheduledReceipt {
        ScheduledReceipt(
            receipt: try reader.readString(), node: try reader.readString(), sku: try reader.readString(),
            quantity: try reader.read(), due: Timestamp(millisecondsSinceEpoch: try reader.read()))
    }

    /// Reads a stored record (what `encode(_:)` wrote).
    static func decodeReceiptRecord(_ bytes: [UInt8]) throws(FulcrumError) -> ScheduledReceipt {
        try bytes.decode("receipt") { (reader) throws(FulcrumError) in
            var receipt = try decodeReceipt(&reader)
            try decodeTrailing(&receipt, &reader)
            return receipt
        }
    }
}
