/// The stock of one SKU at one node. Quantities are whole units.
public struct Position: Hashable, Sendable {
    public var onHand: Int64
    /// Held by open (unconfirmed) reservations.
    public var reserved: Int64
    /// Held by confirmed reservations, waiting to ship.
    public var committed: Int64
    /// Held back from promising.
    public var safetyStock: Int64

    public static let zero = Position(onHand: 0, reserved: 0, committed: 0, safetyStock: 0)

    public init(onHand: Int64, reserved: Int64, committed: Int64, safetyStock: Int64) {
        self.onHand = onHand
        self.reserved = reserved
        self.committed = committed
        self.safetyStock = safetyStock
    }

    /// Units that can be promised now: on hand − reserved − committed − safety
    /// stock, never below zero (safety stock may exceed what is free).
    public var available: Int64 {
        max(0, onHand - reserved - committed - safetyStock)
    }

    /// The invariant every stored position keeps.
    public var isValid: Bool {
        onHand >= 0 && reserved >= 0 && committed >= 0 && safetyStock >= 0 && onHand >= reserved + committed
    }
}

/// A (node, SKU) pair by name.
public struct PositionKey: Hashable, Sendable, CustomStringConvertible {
    public var node: String
    public var sku: String
    public init(node: String, sku: String) {
        self.node = node
        self.sku = sku
    }
    public var description: String { "\(node)/\(sku)" }
}

/// One line of a reservation: units of a SKU held at a node.
public struct ReservationLine: Hashable, Sendable {
    public var node: String
    public var sku: String
    public var quantity: Int64
    public init(node: String, sku: String, quantity: Int64) {
        self.node = node
        self.sku = sku
        self.quantity = quantity
    }
    public var key: PositionKey { PositionKey(node: node, sku: sku) }
}

/// Where a reservation is in its life. Allowed moves:
/// reserved → confirmed | released | expired; confirmed → shipped | released.
public enum ReservationState: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case reserved = 1
    case confirmed = 2
    case shipped = 3
    case released = 4
    case expired = 5

    public var description: String {
        switch self {
        case .reserved: "reserved"
        case .confirmed: "confirmed"
        case .shipped: "shipped"
        case .released: "released"
        case .expired: "expired"
        }
    }

    /// Ended reservations hold no stock; their order id may be reserved again.
    public var isTerminal: Bool { self == .shipped || self == .released || self == .expired }
}

/// An all-or-nothing hold on stock for one order, like a two-phase pending
/// transfer: confirmed (→ committed), shipped, released or expired.
public struct Reservation: Hashable, Sendable {
    public var order: String
    public var state: ReservationState
    public var lines: [ReservationLine]
    public var createdAt: Timestamp
    /// When an unconfirmed reservation lapses.
    public var expiresAt: Timestamp
    /// When the state last changed.
    public var updatedAt: Timestamp

    public init(
        order: String, state: ReservationState, lines: [ReservationLine],
        createdAt: Timestamp, expiresAt: Timestamp, updatedAt: Timestamp
    ) {
        self.order = order
        self.state = state
        self.lines = lines
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.updatedAt = updatedAt
    }
}

/// Future supply: units of a SKU due at a node on a date (a purchase order,
/// a transfer in transit). Counted by ATP for dates on or after `due`.
public struct ScheduledReceipt: Hashable, Sendable {
    public var receipt: String
    public var node: String
    public var sku: String
    public var quantity: Int64
    public var due: Timestamp
    /// A transfer's shipping node (its units are in transit); empty for a
    /// purchase order or any other receipt from outside the network.
    public var fromNode: String
    public init(receipt: String, node: String, sku: String, quantity: Int64, due: Timestamp, fromNode: String = "") {
        self.receipt = receipt
        self.node = node
        self.sku = sku
        self.quantity = quantity
        self.due = due
        self.fromNode = fromNode
    }
}
