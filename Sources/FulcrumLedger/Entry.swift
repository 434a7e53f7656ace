import FulcrumCore
import FulcrumStorage

/// A change to one (node, SKU): signed deltas of each balance.
struct Posting: Hashable, Sendable {
    var sku: UInt32
    var node: UInt32
    var onHand: Int64 = 0
    var reserved: Int64 = 0
    var committed: Int64 = 0
    var safetyStock: Int64 = 0
    /// Units scheduled to arrive (the receipt named by the entry's reference).
    var scheduled: Int64 = 0
}

/// One record of the append-only log. Balances, reservations and receipts are
/// all a fold of these; `LedgerVerifier` refolds them from zero to prove it.
/// Entries carry deltas (postings), not commands, so the refold does not
/// depend on the command logic it checks.
struct Entry: Hashable, Sendable {
    enum Kind: UInt8, Sendable {
        case adjust = 1, schedule, receive, setSafetyStock, reserve, confirm, ship, release, expire, transfer
        /// A return received: restocked units on hand (refurbished ones are `schedule` entries beside it).
        case returnToStock
        /// A channel's allocation set or removed (no postings: balances do not move).
        case allocate
        /// A receipt's due date moved (the deadline); one zero posting at its position.
        case reschedule
    }

    /// What an `allocate` entry set: the position by ids (node 0 for every
    /// node) and the stored allocation record (its amount zero: removed).
    struct AllocationChange: Hashable, Sendable {
        var sku: UInt32
        var node: UInt32
        var record: [UInt8]
    }

    /// A `reserve` entry's preorder line: its posting (by index, zero
    /// deltas: nothing on hand moves) is promised units of a receipt.
    struct Promise: Hashable, Sendable {
        var posting: UInt16
        var receipt: String
        var quantity: Int64
    }

    var kind: Kind
    var at: Timestamp
    /// The order id (reservations), the receipt or transfer id (receipts),
    /// the source's reference of an adjustment, or empty.
    var reference: String
    /// The reason of an adjustment.
    var note: String
    /// A reservation's expiry, a scheduled receipt's due date, or the time a
    /// counted adjustment's count was taken.
    var deadline: Timestamp
    var postings: [Posting]
    /// The system an adjustment came from, or a reservation's channel;
    /// empty otherwise. Encoded after the postings only when present (or
    /// followed by an allocation), so older entries read unchanged.
    var source: String = ""
    /// An `allocate` entry's allocation (the channel is the reference).
    var allocation: AllocationChange? = nil
    /// A `reserve` entry's preorder lines.
    var promises: [Promise] = []

    /// Tags of the optional sections after `source`.
    private enum Section: UInt8 {
        case allocation = 1, promises
    }

    func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: 48 + postings.count * 48)
        writer.write(kind.rawValue)
        writer.write(at.millisecondsSinceEpoch)
        writer.write(reference)
        writer.write(note)
        writer.write(deadline.millisecondsSinceEpoch)
        writer.write(UInt16(postings.count))
        for posting in postings {
            writer.write(posting.sku)
            writer.write(posting.node)
            writer.write(posting.onHand)
            writer.write(posting.reserved)
            writer.write(posting.committed)
            writer.write(posting.safetyStock)
            writer.write(posting.scheduled)
        }
        if !source.isEmpty || allocation != nil || !promises.isEmpty { writer.write(source) }
        if let allocation {
            writer.write(Section.allocation.rawValue)
            writer.write(allocation.sku)
            writer.write(allocation.node)
            writer.write(bytes: allocation.record)
        }
        if !promises.isEmpty {
            writer.write(Section.promises.rawValue)
            writer.write(UInt16(promises.count))
            for promise in promises {
                writer.write(promise.posting)
                writer.write(promise.receipt)
                writer.write(promise.quantity)
            }
        }
        return writer.bytes
    }

    static func decode(_ bytes: [UInt8]) throws(FulcrumError) -> Entry {
        try bytes.decode("entry") { (reader) throws(FulcrumError) -> Entry in
            guard let kind = Kind(rawValue: try reader.read(UInt8.self)) else {
                throw FulcrumError(.corrupt, "unknown entry kind")
            }
            let at = Timestamp(millisecondsSinceEpoch: try reader.read())
            let reference = try reader.readString()
            let note = try reader.readString()
            let deadline = Timestamp(millisecondsSinceEpoch: try reader.read())
            let count = Int(try reader.read(UInt16.self))
            var postings: [Posting] = []
            for _ in 0..<count {
                postings.append(
                    Posting(
                        sku: try reader.read(), node: try reader.read(), onHand: try reader.read(),
                        reserved: try reader.read(), committed: try reader.read(),
                        safetyStock: try reader.read(), scheduled: try reader.read()))
            }
            var entry = Entry(
                kind: kind, at: at, reference: reference, note: note, deadline: deadline, postings: postings,
                source: reader.isAtEnd ? "" : try reader.readString())
            while !reader.isAtEnd {
                switch Section(rawValue: try reader.read(UInt8.self)) {
                case .allocation:
                    entry.allocation = AllocationChange(sku: try reader.read(), node: try reader.read(), record: try reader.readBytes())
                case .promises:
                    for _ in 0..<Int(try reader.read(UInt16.self)) {
                        let promise = Promise(posting: try reader.read(), receipt: try reader.readString(), quantity: try reader.read())
                        guard Int(promise.posting) < postings.count else {
                            throw FulcrumError(.corrupt, "a promise names posting \(promise.posting) of \(postings.count)")
                        }
                        entry.promises.append(promise)
                    }
                case nil: throw FulcrumError(.corrupt, "unknown entry section")
                }
            }
            return entry
        }
    }
}

extension Entry {
    /// The on-hand change of each position (by `Keys.positionWord`) made by
    /// the entries after `asOf`: read newest first, back to the first entry
    /// at or before it (entries are in time order), at most
    /// `Limits.countEntriesScannedMax` of them; an older `asOf` is refused.
    /// With `words` nil, of every position the entries changed.
    static func onHandChanges(
        _ words: Set<UInt64>?, after asOf: Timestamp, schema: Schema,
        in transaction: borrowing some TransactionReading & ~Copyable
    ) throws -> [UInt64: Int64] {
        var changes: [UInt64: Int64] = [:]
        if let words, words.isEmpty { return changes }
        let cursor = try transaction.cursor(schema.entries)
        var record = try cursor.last()
        var scanned = 0
        while let (_, value) = record {
            let entry = try Entry.decode(value)
            if entry.at <= asOf { return changes }
            scanned += 1
            guard scanned <= Limits.countEntriesScannedMax else {
                throw FulcrumError(
                    .invalidArgument,
                    "the count at \(asOf) is older than the last \(Limits.countEntriesScannedMax) ledger entries;"
                        + " send a newer one", path: "as_of_ms")
            }
            for posting in entry.postings where posting.onHand != 0 {
                let word = Keys.positionWord(sku: posting.sku, node: posting.node)
                if words?.contains(word) ?? true { changes[word, default: 0] += posting.onHand }
            }
            record = try cursor.previous()
        }
        return changes
    }
}

/// The one encoding of a command: the idempotency fingerprint (compared byte
/// for byte with a retry's) and, `exact`, the replicated log's (which must
/// decode to the same command: `receive` then says whether it had a quantity).
enum CommandCodec {
    static func encode(_ command: LedgerCommand, exact: Bool = false) -> [UInt8] {
        var writer = ByteWriter()
        switch command {
        case .adjust(let request):
            // Kind 10 carries the source and count time; without them, kind 1 as before.
            writer.write(UInt8(request.hasProvenance ? 10 : 1))
            writer.write(request.node)
            writer.write(request.sku)
            switch request.change {
            case .set(let quantity): writer.write(UInt8(0)); writer.write(quantity)
            case .delta(let quantity): writer.write(UInt8(1)); writer.write(quantity)
            }
            writer.write(request.reason)
            if request.hasProvenance {
                writer.write(request.source)
                writer.write(request.sourceReference)
                writer.write(UInt8(request.asOf == nil ? 0 : 1))
                writer.write(request.asOf?.millisecondsSinceEpoch ?? 0)
            }
        case .returnToStock(let request):
            writer.write(UInt8(12))
            writer.write(request.returnID)
            writer.write(request.node)
            writer.write(request.refurbishDue.millisecondsSinceEpoch)
            writer.write(UInt16(request.lines.count))
            for line in request.lines {
                writer.write(line.sku)
                writer.write(line.quantity)
                writer.write(line.disposition.rawValue)
            }
        case .transfer(let request):
            writer.write(UInt8(11))
            writer.write(request.transfer)
            writer.write(request.fromNode)
            writer.write(request.toNode)
            writer.write(request.sku)
            writer.write(request.quantity)
            writer.write(request.due.millisecondsSinceEpoch)
        case .schedule(let request):
            writer.write(UInt8(2))
            Records.encode(request.receipt, into: &writer)
        case .reschedule(let request):
            writer.write(UInt8(15))
            writer.write(request.receipt)
            writer.write(request.due.millisecondsSinceEpoch)
        case .receive(let request):
            writer.write(UInt8(3))
            writer.write(request.receipt)
            writer.write(request.quantity ?? -1)
            if exact { writer.write(UInt8(request.quantity == nil ? 0 : 1)) }
        case .setSafetyStock(let request):
            writer.write(UInt8(4))
            writer.write(request.node)
            writer.write(request.sku)
            writer.write(request.quantity)
        case .allocate(let allocation):
            writer.write(UInt8(14))
            Records.encodeNamed(allocation, into: &writer)
        case .reserve(let request):
            // Kind 13 carries a channel and each line's receipt; without them, kind 5 as before.
            let extras = !request.channel.isEmpty || request.lines.contains { !$0.receipt.isEmpty }
            writer.write(UInt8(extras ? 13 : 5))
            if extras { writer.write(request.channel) }
            writer.write(request.order)
            writer.write(request.ttlSeconds)
            writer.write(UInt16(request.lines.count))
            for line in request.lines {
                writer.write(line.node)
                writer.write(line.sku)
                writer.write(line.quantity)
                if extras { writer.write(line.receipt) }
            }
        case .confirm(let order): writer.write(UInt8(6)); writer.write(order)
        case .ship(let order): writer.write(UInt8(7)); writer.write(order)
        case .release(let order): writer.write(UInt8(8)); writer.write(order)
        case .expireDue: writer.write(UInt8(9))
        }
        return writer.bytes
    }

    /// Reads what `encode(_:exact: true)` wrote.
    static func decode(_ reader: inout ByteReader) throws(FulcrumError) -> LedgerCommand {
        switch try reader.read(UInt8.self) {
        case let kind where kind == 1 || kind == 10:
            let node = try reader.readString()
            let sku = try reader.readString()
            let change: AdjustRequest.Change
            switch try reader.read(UInt8.self) {
            case 0: change = .set(try reader.read())
            case 1: change = .delta(try reader.read())
            default: throw FulcrumError(.corrupt, "unknown adjustment kind in a logged command")
            }
            var request = AdjustRequest(node: node, sku: sku, change: change, reason: try reader.readString())
            if kind == 10 {
                request.source = try reader.readString()
                request.sourceReference = try reader.readString()
                let counted = try reader.read(UInt8.self) == 1
                let asOf = Timestamp(millisecondsSinceEpoch: try reader.read())
                request.asOf = counted ? asOf : nil
            }
            return .adjust(request)
        case 12:
            let returnID = try reader.readString()
            let node = try reader.readString()
            let refurbishDue = Timestamp(millisecondsSinceEpoch: try reader.read())
            let count = Int(try reader.read(UInt16.self))
            var lines: [ReturnToStockRequest.Line] = []
            for _ in 0..<count {
                let sku = try reader.readString()
                let quantity: Int64 = try reader.read()
                guard let disposition = Disposition(rawValue: try reader.read(UInt8.self)) else {
                    throw FulcrumError(.corrupt, "unknown disposition in a logged command")
                }
                lines.append(.init(sku: sku, quantity: quantity, disposition: disposition))
            }
            return .returnToStock(ReturnToStockRequest(returnID: returnID, node: node, lines: lines, refurbishDue: refurbishDue))
        case 11:
            return .transfer(
                TransferRequest(
                    transfer: try reader.readString(), fromNode: try reader.readString(), toNode: try reader.readString(),
                    sku: try reader.readString(), quantity: try reader.read(),
                    due: Timestamp(millisecondsSinceEpoch: try reader.read())))
        case 2:
            return .schedule(ScheduleRequest(try Records.decodeReceipt(&reader)))
        case 3:
            let receipt = try reader.readString()
            let quantity: Int64 = try reader.read()
            let given = try reader.read(UInt8.self) == 1
            return .receive(ReceiveRequest(receipt: receipt, quantity: given ? quantity : nil))
        case 4:
            return .setSafetyStock(
                SetSafetyStockRequest(node: try reader.readString(), sku: try reader.readString(), quantity: try reader.read()))
        case 15:
            return .reschedule(
                RescheduleRequest(receipt: try reader.readString(), due: Timestamp(millisecondsSinceEpoch: try reader.read())))
        case 14:
            return .allocate(try Records.decodeNamedAllocation(&reader))
        case let kind where kind == 5 || kind == 13:
            let channel = kind == 13 ? try reader.readString() : ""
            let order = try reader.readString()
            let ttlSeconds: Int64 = try reader.read()
            let count = Int(try reader.read(UInt16.self))
            var lines: [ReservationLine] = []
            lines.reserveCapacity(count)
            for _ in 0..<count {
                var line = ReservationLine(node: try reader.readString(), sku: try reader.readString(), quantity: try reader.read())
                if kind == 13 { line.receipt = try reader.readString() }
                lines.append(line)
            }
            return .reserve(ReserveRequest(order: order, lines: lines, ttlSeconds: ttlSeconds, channel: channel))
        case 6: return .confirm(order: try reader.readString())
        case 7: return .ship(order: try reader.readString())
        case 8: return .release(order: try reader.readString())
        case 9: return .expireDue
        default: throw FulcrumError(.corrupt, "unknown command kind in a logged command")
        }
    }
}

/// Encodings used by idempotency records: the request's fingerprint
/// (`CommandCodec`) and the result (returned to the retry).
enum IdempotencyCodec {
    static func record(command: [UInt8], result: LedgerResult) -> [UInt8] {
        var writer = ByteWriter(capacity: command.count + 64)
        writer.write(UInt32(command.count))
        var bytes = writer.bytes + command
        writer = ByteWriter()
        encode(result, into: &writer)
        bytes += writer.bytes
        return bytes
    }

    static func decodeRecord(_ bytes: [UInt8]) throws(FulcrumError) -> (command: [UInt8], result: LedgerResult) {
        try bytes.decode("idempotency record") { (reader) throws(FulcrumError) in
            let count = Int(try reader.read(UInt32.self))
            var command: [UInt8] = []
            command.reserveCapacity(count)
            for _ in 0..<count { command.append(try reader.read(UInt8.self)) }
            return (command, try decodeResult(&reader))
        }
    }

    private static func encode(_ result: LedgerResult, into writer: inout ByteWriter) {
        switch result {
        case .position(let key, let position):
            writer.write(UInt8(1))
            writer.write(key.node)
            writer.write(key.sku)
            writer.write(position.onHand)
            writer.write(position.reserved)
            writer.write(position.committed)
            writer.write(position.safetyStock)
        case .receipt(let receipt):
            // Kind 5: a transfer's receipt, with its shipping node (and any promises).
            let trailing = !receipt.fromNode.isEmpty || !receipt.promises.isEmpty
            writer.write(UInt8(trailing ? 5 : 2))
            Records.encode(receipt, into: &writer)
            Records.encodeTrailing(receipt, into: &writer)
        case .reservation(let reservation):
            // Kind 7: a reservation with its channel or preorder lines.
            let extras = Records.hasExtras(reservation)
            writer.write(UInt8(extras ? 7 : 3))
            Records.encode(reservation, into: &writer)
            if extras { Records.encodeExtras(reservation, into: &writer) }
        case .allocation(let allocation):
            writer.write(UInt8(8))
            Records.encodeNamed(allocation, into: &writer)
        case .expired(let orders):
            writer.write(UInt8(4))
            writer.write(UInt32(orders.count))
            for order in orders { writer.write(order) }
        case .positions(let positions):
            writer.write(UInt8(6))
            writer.write(UInt32(positions.count))
            for (key, position) in positions.sorted(by: { ($0.key.node, $0.key.sku) < ($1.key.node, $1.key.sku) }) {
                encode(.position(key, position), into: &writer)
            }
        case .recorded:
            preconditionFailure("record batches alone carry no idempotency key")
        }
    }

    private static func decodeResult(_ reader: inout ByteReader) throws(FulcrumError) -> LedgerResult {
        switch try reader.read(UInt8.self) {
        case 1:
            let key = PositionKey(node: try reader.readString(), sku: try reader.readString())
            let position = Position(
                onHand: try reader.read(), reserved: try reader.read(), committed: try reader.read(),
                safetyStock: try reader.read())
            return .position(key, position)
        case 2:
            return .receipt(try Records.decodeReceipt(&reader))
        case 5:
            var receipt = try Records.decodeReceipt(&reader)
            try Records.decodeTrailing(&receipt, &reader)
            return .receipt(receipt)
        case 6:
            let count = Int(try reader.read(UInt32.self))
            var positions: [PositionKey: Position] = [:]
            for _ in 0..<count {
                guard case .position(let key, let position) = try decodeResult(&reader) else {
                    throw FulcrumError(.corrupt, "a returned position is not a position in an idempotency record")
                }
                positions[key] = position
            }
            return .positions(positions)
        case 3:
            return .reservation(try Records.decodeReservation(&reader))
        case 7:
            var reservation = try Records.decodeReservation(&reader)
            try Records.decodeExtras(&reservation, &reader)
            return .reservation(reservation)
        case 8:
            return .allocation(try Records.decodeNamedAllocation(&reader))
        case 4:
            let count = Int(try reader.read(UInt32.self))
            var orders: [String] = []
            for _ in 0..<count { orders.append(try reader.readString()) }
            return .expired(orders)
        default:
            throw FulcrumError(.corrupt, "unknown result kind in idempotency record")
        }
    }
}
