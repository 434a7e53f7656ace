import FulcrumCore
import FulcrumStorage

/// What one command does, decided before anything is written: the plan of a
/// command is computed from reads alone, so a command that fails changes nothing.
struct Effect {
    struct Change {
        var key: PositionKey
        var before: Position
        var after: Position
        var scheduled: Int64 = 0
    }

    var kind: Entry.Kind
    var reference: String = ""
    var note: String = ""
    var source: String = ""
    var deadline = Timestamp(millisecondsSinceEpoch: 0)
    var changes: [Change] = []
    var reservation: Reservation?
    var expiryAdded: Timestamp?
    var expiryRemoved: Timestamp?
    var receiptAdded: ScheduledReceipt?
    var receiptRemoved: ScheduledReceipt?
    /// An allocation set (or, with an amount of zero, removed).
    var allocation: Allocation?
    /// Receipts whose preorder promises changed (stored and re-indexed at their open units).
    var receiptsPromised: [ScheduledReceipt] = []
    /// The preorder lines of a reservation (the entry records them).
    var promises: [Entry.Promise] = []
    /// A rescheduled receipt's due date before (its index key moves).
    var receiptDueBefore: Timestamp?
    /// Reservations whose preorder lines a receipt filled.
    var reservationsFilled: [Reservation] = []
    /// Units channels' reservations newly hold at the first change's position (a receipt filling preorders).
    var channelHolds: [String: Int64] = [:]
    var result: LedgerResult
}

/// The ledger's deterministic state machine: plans each command from what is
/// stored and writes its effect, balances and entry together, in the writer's
/// transaction. Time comes in as an argument. Confined to the writer thread.
struct LedgerStateMachine {
    let schema: Schema
    private(set) var interner: Interner
    private let integrity: Integrity
    private(set) var nextSequence: UInt64
    private var committedSequence: UInt64
    /// Per count time, the on-hand changes of every position since it, read
    /// once a group and kept up to date as the group writes: a snapshot of
    /// thousands of counts reads the entries since its time once, not once a count.
    private var countChanges: [Timestamp: [UInt64: Int64]] = [:]

    init(schema: Schema, integrity: Integrity, transaction: borrowing some TransactionReading & ~Copyable) throws {
        self.schema = schema
        self.integrity = integrity
        self.interner = try Interner(schema: schema, transaction: transaction)
        let cursor = try transaction.cursor(schema.entries)
        if let (key, _) = try cursor.last() {
            nextSequence = Keys.readBigEndian(UInt64.self, key, at: 0) + 1
        } else {
            nextSequence = 1
        }
        committedSequence = nextSequence
    }

    /// A group's transaction committed: keep what it interned and numbered.
    mutating func groupCommitted() {
        interner.commit()
        committedSequence = nextSequence
        countChanges.removeAll(keepingCapacity: true)
    }

    /// A group's transaction was aborted: forget what it interned and numbered.
    mutating func groupAborted() {
        interner.rollback()
        nextSequence = committedSequence
        countChanges.removeAll(keepingCapacity: true)
    }

    /// Runs one command. Client errors and damaged records found while
    /// planning come back as a failed `Result` with nothing written. Anything that fails once writing
    /// has begun (storage errors, corrupt records) throws and dooms the group.
    /// `records` are written after the command's effect, only when the
    /// command succeeds (and alone when `command` is nil): both or neither.
    mutating func execute(
        _ command: LedgerCommand?, idempotencyKey: String?, records: RecordBatch?, now: Timestamp,
        in transaction: borrowing WriteTransaction
    ) throws -> Result<LedgerResult, FulcrumError> {
        var writing = false
        do {
            if let records { try check(records, in: transaction) }
            guard let command else {
                writing = true
                try write(records!, in: transaction)
                return .success(.recorded)
            }
            var fingerprint: [UInt8] = []
            if let idempotencyKey {
                try Names.validateText(
                    idempotencyKey, path: "idempotency_key", bytesMax: Limits.idempotencyKeyBytesMax, allowEmpty: false)
                fingerprint = CommandCodec.encode(command)
                if let stored = try transaction.value(schema.idempotency, key: Names.keyBytes(idempotencyKey)) {
                    let record = try IdempotencyCodec.decodeRecord(stored)
                    guard record.command == fingerprint else {
                        throw FulcrumError(
                            .idempotencyConflict, "the key was first used with a different request",
                            path: "idempotency_key")
                    }
                    return .success(record.result)
                }
            }
            let result: LedgerResult
            if command == .expireDue {
                writing = true
                let expired = try expireDue(now: now, in: transaction)
                if !expired.isEmpty {
                    // Counted for the insights (docs/insights.md) in the transaction that expires them.
                    var counters = RecordBatch()
                    counters.add(
                        InsightKeys.counter(.minute, InsightLevel.minute.bucket(now.millisecondsSinceEpoch), .all, .reservationsExpired),
                        Int64(expired.count))
                    try write(counters, in: transaction)
                }
                result = .expired(expired)
            } else if case .returnToStock(let request) = command {
                // One entry for the stock, one `schedule` entry per refurbished SKU: all planned before any is written.
                let effects = try planReturn(request, in: transaction)
                writing = true
                for effect in effects { try write(effect, now: now, in: transaction) }
                result = effects[0].result
            } else {
                let effect = try plan(command, now: now, in: transaction)
                writing = true
                try write(effect, now: now, in: transaction)
                result = effect.result
            }
            if let idempotencyKey {
                try transaction.put(
                    schema.idempotency, key: Names.keyBytes(idempotencyKey),
                    value: IdempotencyCodec.record(command: fingerprint, result: result))
            }
            if let records { try write(records, in: transaction) }
            return .success(result)
        } catch let error as FulcrumError where !writing {
            return .failure(error)
        } catch let error as LMDBError where !writing && error.code == LMDBError.checksumMismatch.code {
            // A damaged record read while planning fails its command alone: nothing was written.
            return .failure(integrity.error(error))
        }
    }

    // MARK: Attached records

    private func recordsDatabase() throws(FulcrumError) -> Database {
        guard let records = schema.records else {
            preconditionFailure("a writable ledger always has its records database")
        }
        return records
    }

    /// Validates a batch and checks its guards (reads only).
    private func check(_ records: RecordBatch, in transaction: borrowing WriteTransaction) throws {
        try records.validate()
        let database = try recordsDatabase()
        for (index, expected) in records.guards.enumerated() {
            let stored = try transaction.value(database, key: expected.key)
            guard stored == expected.value else {
                throw FulcrumError(
                    .recordConflict,
                    expected.value == nil ? "the record already exists" : "the record changed or is gone",
                    path: "guards[\(index)]")
            }
        }
        // A counter that is not one fails the batch here, before anything is written.
        for (index, addition) in records.additions.enumerated() {
            if let stored = try transaction.value(database, key: addition.key), RecordBatch.counterValue(stored) == nil {
                throw FulcrumError(.recordConflict, "the record is not a counter", path: "additions[\(index)]")
            }
        }
    }

    private func write(_ records: RecordBatch, in transaction: borrowing WriteTransaction) throws {
        let database = try recordsDatabase()
        for write in records.writes {
            if let value = write.value {
                try transaction.put(database, key: write.key, value: value)
            } else {
                _ = try transaction.delete(database, key: write.key)
            }
        }
        for addition in records.additions {
            let stored = try transaction.value(database, key: addition.key).flatMap(RecordBatch.counterValue) ?? 0
            let (sum, overflow) = stored.addingReportingOverflow(addition.amount)
            precondition(!overflow, "a counter overflowed Int64")
            try transaction.put(database, key: addition.key, value: RecordBatch.counter(sum))
        }
    }

    // MARK: Planning (reads only)

    private mutating func plan(_ command: LedgerCommand, now: Timestamp, in transaction: borrowing WriteTransaction)
        throws -> Effect
    {
        switch command {
        case .adjust(let request): try planAdjust(request, in: transaction)
        case .schedule(let request): try planSchedule(request, in: transaction)
        case .receive(let request): try planReceive(request, in: transaction)
        case .reschedule(let request): try planReschedule(request, in: transaction)
        case .setSafetyStock(let request): try planSafetyStock(request, in: transaction)
        case .transfer(let request): try planTransfer(request, in: transaction)
        case .returnToStock: preconditionFailure("a return plans one effect per entry")
        case .allocate(let allocation): try planAllocate(allocation, in: transaction)
        case .reserve(let request): try planReserve(request, now: now, in: transaction)
        case .confirm(let order): try planTransition(order, to: .confirmed, now: now, in: transaction)
        case .ship(let order): try planTransition(order, to: .shipped, now: now, in: transaction)
        case .release(let order): try planTransition(order, to: .released, now: now, in: transaction)
        case .expireDue: preconditionFailure("expireDue plans and writes each expiry in turn")
        }
    }

    private func position(_ key: PositionKey, in transaction: borrowing WriteTransaction) throws -> Position {
        guard let node = interner.lookup(.node, key.node), let sku = interner.lookup(.sku, key.sku) else {
            return .zero
        }
        let word = Keys.positionWord(sku: sku, node: node).bigEndian
        let stored: Position??
        do {
            stored = try withUnsafeBytes(of: word) { key in
                try transaction.withValue(schema.positions, key: key) { Records.decodePosition($0) }
            }
        } catch let error as LMDBError where error.code == LMDBError.checksumMismatch.code {
            throw integrity.error(error, record: key.description)
        }
        switch stored {
        case .none: return .zero
        case .some(.none): throw FulcrumError(.corrupt, "position record has the wrong size", path: key.description)
        case .some(.some(let position)): return position
        }
    }

    private func validateKey(node: String, sku: String, path: String) throws {
        try Names.validate(node, path: path.isEmpty ? "node" : "\(path).node")
        try Names.validate(sku, path: path.isEmpty ? "sku" : "\(path).sku")
    }

    private mutating func planAdjust(_ request: AdjustRequest, in transaction: borrowing WriteTransaction) throws -> Effect {
        try validateKey(node: request.node, sku: request.sku, path: "")
        try Names.validateText(request.reason, path: "reason", bytesMax: Limits.reasonBytesMax, allowEmpty: true)
        try Names.validateText(request.source, path: "source", bytesMax: Limits.sourceBytesMax, allowEmpty: true)
        try Names.validateText(
            request.sourceReference, path: "source_reference", bytesMax: Limits.sourceBytesMax, allowEmpty: true)
        let key = PositionKey(node: request.node, sku: request.sku)
        let before = try position(key, in: transaction)
        var after = before
        switch request.change {
        case .set(let quantity):
            try Names.validateQuantity(quantity, path: "set", allowZero: true)
            after.onHand = quantity
            if let asOf = request.asOf {
                // Changes applied since the count stand on top of it.
                after.onHand += try onHandChanges(key, after: asOf, in: transaction)
            }
        case .delta(let quantity):
            guard request.asOf == nil else {
                throw FulcrumError(.invalidArgument, "as_of_ms goes with set (a count), not delta", path: "as_of_ms")
            }
            guard quantity != 0, quantity.magnitude <= Limits.quantityMax.magnitude else {
                throw FulcrumError(
                    .invalidArgument, "delta \(quantity) must be non-zero and within ±\(Limits.quantityMax)",
                    path: "delta")
            }
            after.onHand = before.onHand + quantity
        }
        let held = after.reserved + after.committed
        guard after.onHand >= held, after.onHand <= Limits.quantityMax else {
            throw FulcrumError(
                .insufficientStock,
                "on hand would be \(after.onHand) at \(key), below the \(held) units held by reservations"
                    + " (or above \(Limits.quantityMax))",
                path: request.change.isSet ? "set" : "delta")
        }
        return Effect(
            kind: .adjust, reference: request.sourceReference, note: request.reason, source: request.source,
            deadline: request.asOf ?? Timestamp(millisecondsSinceEpoch: 0),
            changes: [.init(key: key, before: before, after: after)], result: .position(key, after))
    }

    /// The on-hand change of `key` by the entries after `asOf`.
    private mutating func onHandChanges(_ key: PositionKey, after asOf: Timestamp, in transaction: borrowing WriteTransaction)
        throws -> Int64
    {
        guard let node = interner.lookup(.node, key.node), let sku = interner.lookup(.sku, key.sku) else { return 0 }
        if countChanges[asOf] == nil {
            // A few count times a group at most are kept; another reads the entries again.
            if countChanges.count >= 4 { countChanges.removeAll() }
            countChanges[asOf] = try Entry.onHandChanges(nil, after: asOf, schema: schema, in: transaction)
        }
        return countChanges[asOf]![Keys.positionWord(sku: sku, node: node)] ?? 0
    }

    private func planSafetyStock(_ request: SetSafetyStockRequest, in transaction: borrowing WriteTransaction) throws
        -> Effect
    {
        try validateKey(node: request.node, sku: request.sku, path: "")
        try Names.validateQuantity(request.quantity, path: "quantity", allowZero: true)
        let key = PositionKey(node: request.node, sku: request.sku)
        let before = try position(key, in: transaction)
        var after = before
        after.safetyStock = request.quantity
        return Effect(
            kind: .setSafetyStock, changes: [.init(key: key, before: before, after: after)],
            result: .position(key, after))
    }

    private func storedReceipt(_ receipt: String, in transaction: borrowing WriteTransaction) throws
        -> ScheduledReceipt?
    {
        guard let bytes = try transaction.value(schema.receipts, key: Names.keyBytes(receipt)) else { return nil }
        return try Records.decodeReceiptRecord(bytes)
    }

    private func planSchedule(_ request: ScheduleRequest, in transaction: borrowing WriteTransaction) throws -> Effect {
        let receipt = request.receipt
        try Names.validate(receipt.receipt, path: "receipt")
        try validateKey(node: receipt.node, sku: receipt.sku, path: "")
        try Names.validateQuantity(receipt.quantity, path: "quantity")
        guard receipt.fromNode.isEmpty else {
            throw FulcrumError(.invalidArgument, "units from another node are sent with transfer", path: "from_node")
        }
        if try storedReceipt(receipt.receipt, in: transaction) != nil {
            throw FulcrumError(.receiptExists, "receipt \(receipt.receipt) is already scheduled", path: "receipt")
        }
        let key = PositionKey(node: receipt.node, sku: receipt.sku)
        let current = try position(key, in: transaction)
        return Effect(
            kind: .schedule, reference: receipt.receipt, deadline: receipt.due,
            changes: [.init(key: key, before: current, after: current, scheduled: receipt.quantity)],
            receiptAdded: receipt, result: .receipt(receipt))
    }

    private func planReceive(_ request: ReceiveRequest, in transaction: borrowing WriteTransaction) throws -> Effect {
        try Names.validate(request.receipt, path: "receipt")
        guard let receipt = try storedReceipt(request.receipt, in: transaction) else {
            throw FulcrumError(.receiptNotFound, "no scheduled receipt \(request.receipt)", path: "receipt")
        }
        let quantity = request.quantity ?? receipt.quantity
        try Names.validateQuantity(quantity, path: "quantity", allowZero: true)
        guard quantity >= receipt.promised else {
            let orders = receipt.promises.keys.sorted()
            throw FulcrumError(
                .insufficientStock,
                "\(receipt.promised) units of \(receipt.receipt) are promised to preorders (orders "
                    + orders.prefix(10).joined(separator: ", ") + (orders.count > 10 ? ", …" : "")
                    + "); receive at least that many, or release them first", path: "quantity")
        }
        let key = PositionKey(node: receipt.node, sku: receipt.sku)
        let before = try position(key, in: transaction)
        var after = before
        after.onHand += quantity
        guard after.onHand <= Limits.quantityMax else {
            throw FulcrumError(.invalidArgument, "on hand would exceed \(Limits.quantityMax)", path: "quantity")
        }
        // Each preorder's promise becomes ordinary held units: reserved, or committed once confirmed.
        var filled: [Reservation] = []
        var channelHolds: [String: Int64] = [:]
        for (order, units) in receipt.promises.sorted(by: { $0.key < $1.key }) {
            guard var reservation = try storedReservation(order, in: transaction),
                let index = reservation.lines.firstIndex(where: { $0.receipt == receipt.receipt })
            else {
                throw FulcrumError(.corrupt, "receipt \(receipt.receipt) promises order \(order), which has no such line", path: order)
            }
            switch reservation.state {
            case .reserved: after.reserved += units
            case .confirmed: after.committed += units
            default: throw FulcrumError(.corrupt, "receipt \(receipt.receipt) promises \(reservation.state) order \(order)", path: order)
            }
            reservation.lines[index].receipt = ""
            filled.append(reservation)
            if !reservation.channel.isEmpty { channelHolds[reservation.channel, default: 0] += units }
        }
        return Effect(
            kind: .receive, reference: receipt.receipt,
            changes: [.init(key: key, before: before, after: after, scheduled: -receipt.quantity)],
            receiptRemoved: receipt, reservationsFilled: filled, channelHolds: channelHolds, result: .position(key, after))
    }

    private func planReschedule(_ request: RescheduleRequest, in transaction: borrowing WriteTransaction) throws -> Effect {
        try Names.validate(request.receipt, path: "receipt")
        guard var receipt = try storedReceipt(request.receipt, in: transaction) else {
            throw FulcrumError(.receiptNotFound, "no scheduled receipt \(request.receipt)", path: "receipt")
        }
        let key = PositionKey(node: receipt.node, sku: receipt.sku)
        let current = try position(key, in: transaction)
        let before = receipt.due
        receipt.due = request.due
        return Effect(
            kind: .reschedule, reference: receipt.receipt, deadline: request.due,
            changes: [.init(key: key, before: current, after: current)], receiptsPromised: [receipt],
            receiptDueBefore: before, result: .receipt(receipt))
    }

    private func planTransfer(_ request: TransferRequest, in transaction: borrowing WriteTransaction) throws -> Effect {
        try Names.validate(request.transfer, path: "transfer")
        try Names.validate(request.fromNode, path: "from_node")
        try Names.validate(request.toNode, path: "to_node")
        try Names.validate(request.sku, path: "sku")
        try Names.validateQuantity(request.quantity, path: "quantity")
        guard request.fromNode != request.toNode else {
            throw FulcrumError(.invalidArgument, "a transfer goes to another node than \(request.fromNode)", path: "to_node")
        }
        if try storedReceipt(request.transfer, in: transaction) != nil {
            throw FulcrumError(.receiptExists, "receipt \(request.transfer) is already scheduled", path: "transfer")
        }
        let from = PositionKey(node: request.fromNode, sku: request.sku)
        let before = try position(from, in: transaction)
        // Units held by reservations stay; safety stock may travel (it is a promise buffer, not a hold).
        let unheld = before.onHand - before.reserved - before.committed
        guard unheld >= request.quantity else {
            throw FulcrumError(
                .insufficientStock, "\(from): transferring \(request.quantity), \(unheld) not held by reservations",
                path: "quantity")
        }
        var after = before
        after.onHand -= request.quantity
        let to = PositionKey(node: request.toNode, sku: request.sku)
        let destination = try position(to, in: transaction)
        let receipt = ScheduledReceipt(
            receipt: request.transfer, node: request.toNode, sku: request.sku, quantity: request.quantity,
            due: request.due, fromNode: request.fromNode)
        return Effect(
            kind: .transfer, reference: request.transfer, deadline: request.due,
            changes: [
                .init(key: from, before: before, after: after),
                .init(key: to, before: destination, after: destination, scheduled: request.quantity),
            ],
            receiptAdded: receipt, result: .receipt(receipt))
    }

    private func planReturn(_ request: ReturnToStockRequest, in transaction: borrowing WriteTransaction) throws -> [Effect] {
        try Names.validate(request.returnID, path: "return")
        try Names.validate(request.node, path: "node")
        guard !request.lines.isEmpty, request.lines.count <= Limits.reservationLinesMax else {
            throw FulcrumError(
                .invalidArgument, "a return has 1 to \(Limits.reservationLinesMax) lines, not \(request.lines.count)",
                path: "lines")
        }
        var restocked: [String: Int64] = [:]
        var seen = Set<[String]>()
        var refurbished: [Effect] = []
        for (index, line) in request.lines.enumerated() {
            try Names.validate(line.sku, path: "lines[\(index)].sku")
            try Names.validateQuantity(line.quantity, path: "lines[\(index)].quantity")
            guard seen.insert([line.sku, line.disposition.description]).inserted else {
                throw FulcrumError(
                    .invalidArgument, "\(line.sku) is \(line.disposition) twice; merge the quantities", path: "lines[\(index)]")
            }
        }
        for (index, line) in request.lines.enumerated() {
            switch line.disposition {
            case .restock: restocked[line.sku, default: 0] += line.quantity
            case .dispose: restocked[line.sku, default: 0] += 0
            case .refurbish:
                let receipt = ScheduledReceipt(
                    receipt: ReturnToStockRequest.refurbishReceipt(returnID: request.returnID, sku: line.sku),
                    node: request.node, sku: line.sku, quantity: line.quantity, due: request.refurbishDue)
                try Names.validate(receipt.receipt, path: "lines[\(index)].sku")
                if try storedReceipt(receipt.receipt, in: transaction) != nil {
                    throw FulcrumError(.receiptExists, "receipt \(receipt.receipt) is already scheduled", path: "lines[\(index)]")
                }
                let key = PositionKey(node: request.node, sku: line.sku)
                let current = try position(key, in: transaction)
                refurbished.append(
                    Effect(
                        kind: .schedule, reference: receipt.receipt, deadline: receipt.due,
                        changes: [.init(key: key, before: current, after: current, scheduled: receipt.quantity)],
                        receiptAdded: receipt, result: .receipt(receipt)))
            }
        }
        var changes: [Effect.Change] = []
        var positions: [PositionKey: Position] = [:]
        for sku in restocked.keys.sorted() {
            let key = PositionKey(node: request.node, sku: sku)
            let before = try position(key, in: transaction)
            var after = before
            after.onHand += restocked[sku]!
            guard after.onHand <= Limits.quantityMax else {
                throw FulcrumError(.invalidArgument, "on hand would exceed \(Limits.quantityMax)", path: "lines")
            }
            changes.append(.init(key: key, before: before, after: after))
            positions[key] = after
        }
        for effect in refurbished { positions[effect.changes[0].key] = positions[effect.changes[0].key] ?? effect.changes[0].after }
        let note = request.lines.map { "\($0.disposition) \($0.quantity) \($0.sku)" }.joined(separator: ", ")
        // A return of refurbished units alone still leaves an entry of its own (zero postings at the node).
        if changes.isEmpty, let first = refurbished.first { changes.append(.init(key: first.changes[0].key, before: first.changes[0].before, after: first.changes[0].before)) }
        let stock = Effect(
            kind: .returnToStock, reference: request.returnID, note: note, changes: changes, result: .positions(positions))
        return [stock] + refurbished
    }

    private func planAllocate(_ allocation: Allocation, in transaction: borrowing WriteTransaction) throws -> Effect {
        try Names.validate(allocation.sku, path: "sku")
        if allocation.node != Allocation.everyNode { try Names.validate(allocation.node, path: "node") }
        try Names.validate(allocation.channel, path: "channel")
        switch allocation.amount {
        case .quantity(let units): try Names.validateQuantity(units, path: "quantity", allowZero: true)
        case .shareBasisPoints(let points):
            guard (0...Limits.allocationShareBasisPointsMax).contains(points) else {
                throw FulcrumError(
                    .invalidArgument, "share \(points) is outside 0...\(Limits.allocationShareBasisPointsMax) basis points",
                    path: "share_basis_points")
            }
        }
        if !allocation.removes {
            let others = try allocations(sku: allocation.sku, node: allocation.node, in: transaction)
            guard others[allocation.channel] != nil || others.count < Limits.allocationsPerPositionMax else {
                throw FulcrumError(
                    .invalidArgument,
                    "\(allocation.node)/\(allocation.sku) already has \(Limits.allocationsPerPositionMax) channels' allocations",
                    path: "channel")
            }
        }
        return Effect(
            kind: .allocate, reference: allocation.channel, deadline: allocation.expiresAt ?? Timestamp(millisecondsSinceEpoch: 0),
            allocation: allocation, result: .allocation(allocation))
    }

    /// The allocations stored at exactly `node` (or `*`) for `sku`, by channel, expired or not.
    private func allocations(sku: String, node: String, in transaction: borrowing WriteTransaction) throws -> [String: Allocation] {
        guard let database = schema.allocations else { preconditionFailure("a writable ledger has its allocations database") }
        guard let skuID = interner.lookup(.sku, sku) else { return [:] }
        let nodeID: UInt32
        if node == Allocation.everyNode {
            nodeID = 0
        } else {
            guard let id = interner.lookup(.node, node) else { return [:] }
            nodeID = id
        }
        let prefix = Keys.position(sku: skuID, node: nodeID)
        var found: [String: Allocation] = [:]
        let cursor = try transaction.cursor(database)
        var record = try cursor.seek(atLeast: prefix)
        while let (key, value) = record, key.starts(with: prefix), let (_, _, channel) = Keys.decodeChannel(key) {
            found[channel] = try Records.decodeAllocation(value, sku: sku, node: node, channel: channel)
            record = try cursor.next()
        }
        return found
    }

    /// What each channel may take at `key` now, or nil when no allocation is
    /// in force there (every unit is then open to every reservation).
    private func channelAvailability(
        _ key: PositionKey, _ position: Position, now: Timestamp, in transaction: borrowing WriteTransaction
    ) throws -> ChannelAvailability? {
        // Most ledgers allocate nothing: one page read instead of two scans a line.
        guard let database = schema.allocations, try transaction.count(database) > 0 else { return nil }
        var inForce = try allocations(sku: key.sku, node: Allocation.everyNode, in: transaction)
        inForce.merge(try allocations(sku: key.sku, node: key.node, in: transaction)) { _, own in own }
        inForce = inForce.filter { $0.value.isActive(at: now) }
        guard !inForce.isEmpty, let holds = schema.channelHolds else { return nil }
        var held: [String: Int64] = [:]
        if let sku = interner.lookup(.sku, key.sku), let node = interner.lookup(.node, key.node) {
            for channel in inForce.keys {
                held[channel] = try transaction.value(holds, key: Keys.channel(sku: sku, node: node, channel: channel))
                    .map { try Records.decodeHeld($0) } ?? 0
            }
        }
        return ChannelAvailability(position: position, allocations: inForce, held: held)
    }

    private func storedReservation(_ order: String, in transaction: borrowing WriteTransaction) throws -> Reservation? {
        guard let bytes = try transaction.value(schema.reservations, key: Names.keyBytes(order)) else { return nil }
        return try Records.decodeReservationRecord(bytes)
    }

    private func validate(_ request: ReserveRequest) throws {
        try Names.validate(request.order, path: "order")
        guard !request.lines.isEmpty else {
            throw FulcrumError(.invalidArgument, "a reservation needs at least one line", path: "lines")
        }
        guard request.lines.count <= Limits.reservationLinesMax else {
            throw FulcrumError(
                .invalidArgument, "\(request.lines.count) lines; the limit is \(Limits.reservationLinesMax)",
                path: "lines")
        }
        guard request.ttlSeconds >= 1, request.ttlSeconds <= Limits.reservationTTLSecondsMax else {
            throw FulcrumError(
                .invalidArgument, "ttl \(request.ttlSeconds)s is outside 1...\(Limits.reservationTTLSecondsMax)",
                path: "ttl_seconds")
        }
        var seen = Set<PositionKey>()
        for (index, line) in request.lines.enumerated() {
            try validateKey(node: line.node, sku: line.sku, path: "lines[\(index)]")
            try Names.validateQuantity(line.quantity, path: "lines[\(index)].quantity")
            if !line.receipt.isEmpty { try Names.validate(line.receipt, path: "lines[\(index)].receipt") }
            guard seen.insert(line.key).inserted else {
                throw FulcrumError(
                    .invalidArgument, "duplicate line for \(line.key); merge the quantities", path: "lines[\(index)]")
            }
        }
    }

    private func planReserve(_ request: ReserveRequest, now: Timestamp, in transaction: borrowing WriteTransaction)
        throws -> Effect
    {
        try validate(request)
        if let existing = try storedReservation(request.order, in: transaction), !existing.state.isTerminal {
            throw FulcrumError(
                .reservationExists, "order \(request.order) already holds a \(existing.state) reservation",
                path: "order")
        }
        if !request.channel.isEmpty { try Names.validate(request.channel, path: "channel") }
        var changes: [Effect.Change] = []
        var promised: [ScheduledReceipt] = []
        var promises: [Entry.Promise] = []
        for (index, line) in request.lines.enumerated() {
            let before = try position(line.key, in: transaction)
            if !line.receipt.isEmpty {
                // A preorder: promised units of the receipt; nothing on hand moves.
                promised.append(try promise(line, index: index, order: request.order, in: transaction))
                promises.append(Entry.Promise(posting: UInt16(index), receipt: line.receipt, quantity: line.quantity))
                changes.append(.init(key: line.key, before: before, after: before))
                continue
            }
            let available =
                try channelAvailability(line.key, before, now: now, in: transaction)?.available(to: request.channel)
                ?? before.available
            guard available >= line.quantity else {
                let whose = request.channel.isEmpty ? "" : " to \(request.channel)"
                throw FulcrumError(
                    .insufficientStock,
                    "\(line.key): requested \(line.quantity), available\(whose) \(available)",
                    path: "lines[\(index)].quantity")
            }
            var after = before
            after.reserved += line.quantity
            changes.append(.init(key: line.key, before: before, after: after))
        }
        let expiresAt = now.adding(seconds: request.ttlSeconds)
        let reservation = Reservation(
            order: request.order, state: .reserved, lines: request.lines, createdAt: now, expiresAt: expiresAt,
            updatedAt: now, channel: request.channel)
        return Effect(
            kind: .reserve, reference: request.order, source: request.channel, deadline: expiresAt, changes: changes,
            reservation: reservation, expiryAdded: expiresAt, receiptsPromised: promised, promises: promises,
            result: .reservation(reservation))
    }

    /// The receipt a preorder line is promised, with its promise added.
    private func promise(_ line: ReservationLine, index: Int, order: String, in transaction: borrowing WriteTransaction) throws
        -> ScheduledReceipt
    {
        let path = "lines[\(index)]"
        guard var receipt = try storedReceipt(line.receipt, in: transaction) else {
            throw FulcrumError(.receiptNotFound, "no scheduled receipt \(line.receipt)", path: path + ".receipt")
        }
        guard receipt.node == line.node, receipt.sku == line.sku else {
            throw FulcrumError(
                .invalidArgument, "receipt \(receipt.receipt) brings \(receipt.sku) to \(receipt.node), not \(line.key)",
                path: path + ".receipt")
        }
        guard receipt.open >= line.quantity else {
            throw FulcrumError(
                .insufficientStock, "\(receipt.receipt): requested \(line.quantity), \(receipt.open) not yet promised",
                path: path + ".quantity")
        }
        guard receipt.promises.count < Limits.preordersPerReceiptMax else {
            throw FulcrumError(
                .insufficientStock, "\(receipt.receipt) already has \(Limits.preordersPerReceiptMax) preorders",
                path: path + ".receipt")
        }
        receipt.promises[order] = line.quantity
        return receipt
    }

    private func planTransition(
        _ order: String, to target: ReservationState, now: Timestamp, in transaction: borrowing WriteTransaction
    ) throws -> Effect {
        try Names.validate(order, path: "order")
        guard let reservation = try storedReservation(order, in: transaction) else {
            throw FulcrumError(.reservationNotFound, "no reservation for order \(order)", path: "order")
        }
        return try transition(reservation, to: target, now: now, in: transaction)
    }

    /// The balance moves of each allowed transition, per line quantity q.
    private func transition(
        _ reservation: Reservation, to target: ReservationState, now: Timestamp,
        in transaction: borrowing WriteTransaction
    ) throws -> Effect {
        let from = reservation.state
        let lapsed = from == .reserved && reservation.expiresAt <= now && target != .expired
        let move: (inout Position, Int64) -> Void
        let kind: Entry.Kind
        switch (from, target) {
        case (.reserved, .confirmed) where !lapsed:
            (move, kind) = ({ $0.reserved -= $1; $0.committed += $1 }, .confirm)
        case (.confirmed, .shipped): (move, kind) = ({ $0.committed -= $1; $0.onHand -= $1 }, .ship)
        case (.reserved, .released): (move, kind) = ({ $0.reserved -= $1 }, .release)
        case (.confirmed, .released): (move, kind) = ({ $0.committed -= $1 }, .release)
        case (.reserved, .expired): (move, kind) = ({ $0.reserved -= $1 }, .expire)
        default:
            let why = lapsed ? "it lapsed at \(reservation.expiresAt)" : "it is \(from)"
            throw FulcrumError(
                .illegalTransition, "cannot move order \(reservation.order) to \(target): \(why)", path: "order")
        }
        if target == .shipped, let waiting = reservation.lines.first(where: { !$0.receipt.isEmpty }) {
            throw FulcrumError(
                .illegalTransition,
                "cannot ship order \(reservation.order): its line \(waiting.key) awaits receipt \(waiting.receipt)", path: "order")
        }
        var changes: [Effect.Change] = []
        var promised: [ScheduledReceipt] = []
        for line in reservation.lines {
            let before = try position(line.key, in: transaction)
            var after = before
            if line.receipt.isEmpty {
                move(&after, line.quantity)
            } else if target == .released || target == .expired {
                // A preorder's promise is withdrawn; confirming keeps it.
                guard var receipt = try storedReceipt(line.receipt, in: transaction) else {
                    throw FulcrumError(.corrupt, "order \(reservation.order) is promised missing receipt \(line.receipt)", path: reservation.order)
                }
                receipt.promises[reservation.order] = nil
                promised.append(receipt)
            }
            precondition(after.isValid, "transition \(from)→\(target) broke \(line.key): \(after)")
            changes.append(.init(key: line.key, before: before, after: after))
        }
        var updated = reservation
        updated.state = target
        updated.updatedAt = now
        return Effect(
            kind: kind, reference: reservation.order, source: reservation.channel, changes: changes, reservation: updated,
            expiryRemoved: from == .reserved ? reservation.expiresAt : nil, receiptsPromised: promised,
            result: .reservation(updated))
    }

    /// Whether a reservation's time to live has passed at `now`.
    func anyDue(now: Timestamp, in transaction: borrowing some TransactionReading & ~Copyable) throws -> Bool {
        let cursor = try transaction.cursor(schema.expiries)
        guard let (key, _) = try cursor.first() else { return false }
        guard let (at, _) = Keys.decodeExpiry(key) else { throw FulcrumError(.corrupt, "bad expiry key") }
        return at <= now
    }

    /// Expires due reservations, oldest first, planning and writing each in
    /// turn (they may share positions). Returns their orders.
    private mutating func expireDue(now: Timestamp, in transaction: borrowing WriteTransaction) throws -> [String] {
        var due: [String] = []
        do {
            let cursor = try transaction.cursor(schema.expiries)
            var record = try cursor.first()
            while let (key, _) = record, due.count < Limits.expiriesPerGroupMax {
                guard let (at, order) = Keys.decodeExpiry(key) else {
                    throw FulcrumError(.corrupt, "bad expiry key")
                }
                if at > now { break }
                due.append(order)
                record = try cursor.next()
            }
        }
        for order in due {
            guard let reservation = try storedReservation(order, in: transaction) else {
                throw FulcrumError(.corrupt, "expiry names a missing reservation", path: order)
            }
            try write(try transition(reservation, to: .expired, now: now, in: transaction), now: now, in: transaction)
        }
        return due
    }

    // MARK: Writing

    private mutating func write(_ effect: Effect, now: Timestamp, in transaction: borrowing WriteTransaction) throws {
        var postings: [Posting] = []
        postings.reserveCapacity(effect.changes.count)
        for change in effect.changes {
            precondition(change.after.isValid, "invariant broken at \(change.key): \(change.after)")
            let node = try interner.intern(.node, change.key.node, in: transaction, schema: schema)
            let sku = try interner.intern(.sku, change.key.sku, in: transaction, schema: schema)
            if change.after != change.before {
                try transaction.put(
                    schema.positions, key: Keys.position(sku: sku, node: node), value: Records.encode(change.after))
            }
            if change.after.onHand != change.before.onHand {
                // Counts read in this group see this entry's change too.
                for asOf in countChanges.keys where now > asOf {
                    countChanges[asOf]![Keys.positionWord(sku: sku, node: node), default: 0] += change.after.onHand - change.before.onHand
                }
            }
            let held = (change.after.reserved + change.after.committed) - (change.before.reserved + change.before.committed)
            if let channel = effect.reservation?.channel, !channel.isEmpty, held != 0 {
                try addHeld(held, sku: sku, node: node, channel: channel, in: transaction)
            }
            if postings.isEmpty {
                for (channel, units) in effect.channelHolds { try addHeld(units, sku: sku, node: node, channel: channel, in: transaction) }
            }
            postings.append(
                Posting(
                    sku: sku, node: node, onHand: change.after.onHand - change.before.onHand,
                    reserved: change.after.reserved - change.before.reserved,
                    committed: change.after.committed - change.before.committed,
                    safetyStock: change.after.safetyStock - change.before.safetyStock, scheduled: change.scheduled))
        }
        var allocationChange: Entry.AllocationChange?
        if let allocation = effect.allocation {
            allocationChange = try write(allocation, in: transaction)
        }
        if !postings.isEmpty || allocationChange != nil {
            let entry = Entry(
                kind: effect.kind, at: now, reference: effect.reference, note: effect.note,
                deadline: effect.deadline, postings: postings, source: effect.source, allocation: allocationChange,
                promises: effect.promises)
            try transaction.append(schema.entries, key: Keys.entry(nextSequence), value: entry.encoded())
            nextSequence += 1
        }
        try writeRecords(effect, postings: postings, in: transaction)
    }

    /// Stores (or removes) an allocation; returns what its entry records.
    private mutating func write(_ allocation: Allocation, in transaction: borrowing WriteTransaction) throws
        -> Entry.AllocationChange
    {
        let sku = try interner.intern(.sku, allocation.sku, in: transaction, schema: schema)
        let node =
            allocation.node == Allocation.everyNode
            ? 0 : try interner.intern(.node, allocation.node, in: transaction, schema: schema)
        let key = Keys.channel(sku: sku, node: node, channel: allocation.channel)
        let record = Records.encode(allocation)
        if allocation.removes {
            _ = try transaction.delete(schema.allocations!, key: key)
        } else {
            try transaction.put(schema.allocations!, key: key, value: record)
        }
        return Entry.AllocationChange(sku: sku, node: node, record: record)
    }

    /// Moves a channel's held units at a position (a record only while non-zero).
    private func addHeld(_ units: Int64, sku: UInt32, node: UInt32, channel: String, in transaction: borrowing WriteTransaction)
        throws
    {
        let key = Keys.channel(sku: sku, node: node, channel: channel)
        let held = try (transaction.value(schema.channelHolds!, key: key).map { try Records.decodeHeld($0) } ?? 0) + units
        precondition(held >= 0, "channel \(channel) would hold \(held) units")
        if held == 0 {
            _ = try transaction.delete(schema.channelHolds!, key: key)
        } else {
            try transaction.put(schema.channelHolds!, key: key, value: Records.encodeHeld(held))
        }
    }

    private func writeRecords(_ effect: Effect, postings: [Posting], in transaction: borrowing WriteTransaction) throws {
        for reservation in (effect.reservation.map { [$0] } ?? []) + effect.reservationsFilled {
            try transaction.put(
                schema.reservations, key: Names.keyBytes(reservation.order), value: Records.encode(reservation))
        }
        for receipt in effect.receiptsPromised {
            guard let sku = interner.lookup(.sku, receipt.sku), let node = interner.lookup(.node, receipt.node) else {
                throw FulcrumError(.corrupt, "receipt \(receipt.receipt) names an unknown position", path: receipt.receipt)
            }
            if let before = effect.receiptDueBefore {
                try transaction.delete(
                    schema.receiptsByPosition, key: Keys.receiptByPosition(sku: sku, node: node, due: before, receipt: receipt.receipt))
            }
            try transaction.put(schema.receipts, key: Names.keyBytes(receipt.receipt), value: Records.encode(receipt))
            try transaction.put(
                schema.receiptsByPosition,
                key: Keys.receiptByPosition(sku: sku, node: node, due: receipt.due, receipt: receipt.receipt),
                value: Records.encodeOpen(receipt))
        }
        if let at = effect.expiryRemoved {
            try transaction.delete(schema.expiries, key: Keys.expiry(at, order: effect.reference))
        }
        if let at = effect.expiryAdded {
            try transaction.put(schema.expiries, key: Keys.expiry(at, order: effect.reference), value: [])
        }
        if let receipt = effect.receiptAdded ?? effect.receiptRemoved,
            let posting = postings.first(where: { $0.scheduled != 0 })
        {
            let indexKey = Keys.receiptByPosition(
                sku: posting.sku, node: posting.node, due: receipt.due, receipt: receipt.receipt)
            if effect.receiptAdded != nil {
                try transaction.put(schema.receipts, key: Names.keyBytes(receipt.receipt), value: Records.encode(receipt))
                try transaction.put(schema.receiptsByPosition, key: indexKey, value: Records.encodeOpen(receipt))
            } else {
                try transaction.delete(schema.receipts, key: Names.keyBytes(receipt.receipt))
                try transaction.delete(schema.receiptsByPosition, key: indexKey)
            }
        }
    }
}

extension AdjustRequest.Change {
    var isSet: Bool {
        if case .set = self { return true }
        return false
    }
}
