/// Sets or moves on-hand stock (a count, a correction, a return to stock).
public struct AdjustRequest: Hashable, Sendable {
    public enum Change: Hashable, Sendable {
        /// On hand becomes exactly this many units.
        case set(Int64)
        /// On hand moves by this many units (negative for shrink).
        case delta(Int64)
    }
    public var node: String
    public var sku: String
    public var change: Change
    /// Why: "cycle count", "damaged", ... (free text, stored in the entry).
    public var reason: String
    /// The system the change comes from ("wms-east", "pos"): empty for a
    /// direct call. Stored in the entry with `sourceReference`.
    public var source: String
    /// The source's own id of the change (a feed file, a message id).
    public var sourceReference: String
    /// With `set`: the instant the count was taken. On-hand changes the
    /// ledger applied after it are kept on top of the count, so a late
    /// snapshot never undoes newer deltas, shipments or receipts.
    public var asOf: Timestamp?
    public init(
        node: String, sku: String, change: Change, reason: String = "", source: String = "",
        sourceReference: String = "", asOf: Timestamp? = nil
    ) {
        self.node = node
        self.sku = sku
        self.change = change
        self.reason = reason
        self.source = source
        self.sourceReference = sourceReference
        self.asOf = asOf
    }

    /// Whether the request carries a source or a count time (stored and
    /// logged in the longer encoding).
    public var hasProvenance: Bool { !source.isEmpty || !sourceReference.isEmpty || asOf != nil }
}

/// Moves units between nodes: they leave `fromNode`'s on hand now and are
/// in transit as a scheduled receipt at `toNode`, due at `due`, which ATP by
/// date counts from then. `receive` with the transfer's id lands them.
public struct TransferRequest: Hashable, Sendable {
    /// The client's id of the transfer; also the receipt's id at `toNode`.
    public var transfer: String
    public var fromNode: String
    public var toNode: String
    public var sku: String
    public var quantity: Int64
    /// The expected arrival at `toNode`.
    public var due: Timestamp
    public init(transfer: String, fromNode: String, toNode: String, sku: String, quantity: Int64, due: Timestamp) {
        self.transfer = transfer
        self.fromNode = fromNode
        self.toNode = toNode
        self.sku = sku
        self.quantity = quantity
        self.due = due
    }
}

/// Announces a future receipt (`receipt` is the client's id, e.g. a PO number).
public struct ScheduleRequest: Hashable, Sendable {
    public var receipt: ScheduledReceipt
    public init(_ receipt: ScheduledReceipt) { self.receipt = receipt }
}

/// A scheduled receipt arrives: it is closed, and the units received (all that
/// were scheduled unless `quantity` says otherwise) go on hand.
public struct ReceiveRequest: Hashable, Sendable {
    public var receipt: String
    public var quantity: Int64?
    public init(receipt: String, quantity: Int64? = nil) {
        self.receipt = receipt
        self.quantity = quantity
    }
}

/// A scheduled receipt (a purchase order running late, a transfer held
/// up) is now due at `due`: ATP by date counts it from then. Its result
/// names the preorders it was promised to (`promises`).
public struct RescheduleRequest: Hashable, Sendable {
    public var receipt: String
    public var due: Timestamp
    public init(receipt: String, due: Timestamp) {
        self.receipt = receipt
        self.due = due
    }
}

/// Sets the units of a (node, SKU) held back from promising.
public struct SetSafetyStockRequest: Hashable, Sendable {
    public var node: String
    public var sku: String
    public var quantity: Int64
    public init(node: String, sku: String, quantity: Int64) {
        self.node = node
        self.sku = sku
        self.quantity = quantity
    }
}

/// What becomes of returned units once inspected.
public enum Disposition: UInt8, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// Sellable again at once: on hand at the receiving node.
    case restock = 1
    /// Sellable again once refurbished: a receipt at the node, due then.
    case refurbish = 2
    /// Written off: recorded, never on hand.
    case dispose = 3

    public var description: String {
        switch self {
        case .restock: "restock"
        case .refurbish: "refurbish"
        case .dispose: "dispose"
        }
    }

    /// The disposition named `name`, or nil.
    public init?(name: String) {
        guard let disposition = Self.allCases.first(where: { $0.description == name }) else { return nil }
        self = disposition
    }
}

/// Returned units received and inspected at a node, each line with its
/// disposition. Refurbished units become a receipt `RETURN/SKU` due at
/// `refurbishDue`, which ATP by date counts from then and `receive` lands.
public struct ReturnToStockRequest: Hashable, Sendable {
    public struct Line: Hashable, Sendable {
        public var sku: String
        public var quantity: Int64
        public var disposition: Disposition
        public init(sku: String, quantity: Int64, disposition: Disposition) {
            self.sku = sku
            self.quantity = quantity
            self.disposition = disposition
        }
    }
    /// The return's id (an order's returns are `ORDER/RETURN`).
    public var returnID: String
    public var node: String
    public var lines: [Line]
    public var refurbishDue: Timestamp
    public init(returnID: String, node: String, lines: [Line], refurbishDue: Timestamp) {
        self.returnID = returnID
        self.node = node
        self.lines = lines
        self.refurbishDue = refurbishDue
    }

    /// The receipt of a line's refurbished units.
    public static func refurbishReceipt(returnID: String, sku: String) -> String { "\(returnID)/\(sku)" }
}

/// Holds stock for an order: every line or none.
public struct ReserveRequest: Hashable, Sendable {
    public var order: String
    public var lines: [ReservationLine]
    public var ttlSeconds: Int64
    /// The sales channel the order comes from: its allocations are taken
    /// first. Empty for none (unallocated stock only).
    public var channel: String
    /// How long an unconfirmed reservation holds its stock when the request does not say.
    public static let defaultTTLSeconds: Int64 = 900
    public init(order: String, lines: [ReservationLine], ttlSeconds: Int64 = defaultTTLSeconds, channel: String = "") {
        self.order = order
        self.lines = lines
        self.ttlSeconds = ttlSeconds
        self.channel = channel
    }
}

/// Every change the ledger accepts. Each goes through the writer's queue and
/// is applied in one write transaction with its log entry.
public enum LedgerCommand: Hashable, Sendable {
    case adjust(AdjustRequest)
    case schedule(ScheduleRequest)
    case receive(ReceiveRequest)
    /// A receipt's due date moves.
    case reschedule(RescheduleRequest)
    case setSafetyStock(SetSafetyStockRequest)
    /// Ships units from one node toward another (in transit until received).
    case transfer(TransferRequest)
    /// A return received and inspected: restocked, refurbished or disposed of.
    case returnToStock(ReturnToStockRequest)
    /// Sets (replaces) or, with an amount of zero, removes a channel's allocation.
    case allocate(Allocation)
    case reserve(ReserveRequest)
    /// reserved → confirmed: the reserved units become committed.
    case confirm(order: String)
    /// confirmed → shipped: the committed units leave on hand.
    case ship(order: String)
    /// reserved or confirmed → released: the units are available again.
    case release(order: String)
    /// Expires every unconfirmed reservation whose time to live has passed
    /// (up to `Limits.expiriesPerGroupMax` at a time).
    case expireDue
}

/// What a command returns, by kind.
public enum LedgerResult: Hashable, Sendable {
    /// adjust, receive, setSafetyStock: the position after the change.
    case position(PositionKey, Position)
    /// schedule, transfer, reschedule: the receipt as stored (a transfer's names `fromNode`).
    case receipt(ScheduledReceipt)
    /// reserve, confirm, ship, release: the reservation after the change.
    case reservation(Reservation)
    /// expireDue: the orders whose reservations expired.
    case expired([String])
    /// returnToStock: the positions of the return's SKUs at its node after it.
    case positions([PositionKey: Position])
    /// allocate: the allocation as set (its amount zero when removed).
    case allocation(Allocation)
    /// A `RecordBatch` alone was written.
    case recorded
}
