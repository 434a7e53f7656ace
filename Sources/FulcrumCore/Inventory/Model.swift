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
    /// A preorder: the scheduled receipt (at this node and SKU) whose units
    /// the line is promised; empty for units on hand. Until the receipt is
    /// received the units are held from it (ATP by date counts them taken);
    /// receiving it makes them ordinary reserved (or committed) units, and
    /// the line's `receipt` empty.
    public var receipt: String
    public init(node: String, sku: String, quantity: Int64, receipt: String = "") {
        self.node = node
        self.sku = sku
        self.quantity = quantity
        self.receipt = receipt
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
    /// The sales channel whose allocations it draws on first (empty: none).
    public var channel: String

    public init(
        order: String, state: ReservationState, lines: [ReservationLine],
        createdAt: Timestamp, expiresAt: Timestamp, updatedAt: Timestamp, channel: String = ""
    ) {
        self.channel = channel
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
    /// Units promised to preorders, by order (reservation lines naming this
    /// receipt), at most `Limits.preordersPerReceiptMax` orders.
    public var promises: [String: Int64]
    public init(
        receipt: String, node: String, sku: String, quantity: Int64, due: Timestamp, fromNode: String = "",
        promises: [String: Int64] = [:]
    ) {
        self.receipt = receipt
        self.node = node
        self.sku = sku
        self.quantity = quantity
        self.due = due
        self.fromNode = fromNode
        self.promises = promises
    }

    /// Units promised to preorders.
    public var promised: Int64 { promises.values.reduce(0, +) }
    /// Units not yet promised: what ATP by date counts from `due`.
    public var open: Int64 { quantity - promised }
}

/// Stock of a SKU set aside for a sales channel (ring-fenced) at one node or,
/// with `node` `*`, at every node without an allocation of its own for that
/// channel. Other channels' reservations cannot take the units the channel
/// does not yet hold; the channel's own reservations count against its
/// allocation first and, with `overflow`, take unallocated units after it.
public struct Allocation: Hashable, Sendable {
    /// How much is set aside.
    public enum Amount: Hashable, Sendable {
        /// A number of units (a standing ring-fence, not used up by shipments).
        case quantity(Int64)
        /// A share of the node's on hand, in basis points (10,000 = all of it).
        case shareBasisPoints(Int64)

        var isZero: Bool {
            switch self {
            case .quantity(let units): units == 0
            case .shareBasisPoints(let points): points == 0
            }
        }
    }

    /// The `node` of an allocation at every node.
    public static let everyNode = "*"

    public var sku: String
    public var node: String
    public var channel: String
    public var amount: Amount
    /// Whether the channel may take unallocated units once its own are held.
    public var overflow: Bool
    /// When the allocation stops protecting anything (nil: until changed).
    public var expiresAt: Timestamp?

    public init(sku: String, node: String, channel: String, amount: Amount, overflow: Bool = true, expiresAt: Timestamp? = nil) {
        self.sku = sku
        self.node = node
        self.channel = channel
        self.amount = amount
        self.overflow = overflow
        self.expiresAt = expiresAt
    }

    /// Whether setting it removes the allocation instead (an amount of zero).
    public var removes: Bool { amount.isZero }

    /// Whether it still sets stock aside at `now`.
    public func isActive(at now: Timestamp) -> Bool { expiresAt.map { now < $0 } ?? true }

    /// The units it sets aside at a position with `onHand` units.
    public func units(onHand: Int64) -> Int64 {
        switch amount {
        case .quantity(let units): units
        case .shareBasisPoints(let points): onHand * points / 10_000
        }
    }
}

/// What each channel may promise at one position under its allocations: the
/// one rule the ledger's reservations and its ATP reads share.
public struct ChannelAvailability: Sendable {
    /// The allocations in force at the position, one per channel (a node's
    /// own before the every-node one), active at the time of the read.
    public let allocations: [String: Allocation]
    /// Units held (reserved or committed) by each channel's reservations at the position.
    public let held: [String: Int64]
    public let position: Position

    public init(position: Position, allocations: [String: Allocation], held: [String: Int64]) {
        self.position = position
        self.allocations = allocations
        self.held = held
    }

    /// The units still set aside for `channel`: its allocation less what it holds.
    public func ringFenced(_ channel: String) -> Int64 {
        guard let allocation = allocations[channel] else { return 0 }
        return max(0, allocation.units(onHand: position.onHand) - (held[channel] ?? 0))
    }

    /// Units no channel has set aside.
    public var unallocated: Int64 {
        max(0, position.available - allocations.keys.reduce(0) { $0 + ringFenced($1) })
    }

    /// Units a reservation of `channel` (empty: none) may take: its ring-fence
    /// and, when it overflows or has no allocation, the unallocated units.
    public func available(to channel: String) -> Int64 {
        guard let allocation = allocations[channel] else { return unallocated }
        return min(position.available, ringFenced(channel) + (allocation.overflow ? unallocated : 0))
    }
}
