import FulcrumCore

// Positions and reservations between their domain values and their wire
// messages, both ways: the server answers with them, clients read them back.

extension Fulcrum_V1_Position {
    public init(_ key: PositionKey, _ position: Position) {
        self.init()
        node = key.node
        sku = key.sku
        onHand = position.onHand
        reserved = position.reserved
        committed = position.committed
        safetyStock = position.safetyStock
        available = position.available
    }

    /// The position the message carries (its `available` is recomputed from the balances).
    public var domain: (key: PositionKey, position: Position) {
        (PositionKey(node: node, sku: sku), Position(onHand: onHand, reserved: reserved, committed: committed, safetyStock: safetyStock))
    }
}

extension Fulcrum_V1_ScheduleResponse {
    /// The receipt the message carries.
    public var domain: ScheduledReceipt {
        ScheduledReceipt(
            receipt: receipt, node: node, sku: sku, quantity: quantity, due: Timestamp(millisecondsSinceEpoch: dueMs),
            fromNode: fromNode)
    }
}

extension Fulcrum_V1_Reservation {
    public init(_ reservation: Reservation) {
        self.init()
        order = reservation.order
        state = reservation.state.description
        lines = reservation.lines.map { line in .with { $0.node = line.node; $0.sku = line.sku; $0.quantity = line.quantity } }
        createdMs = reservation.createdAt.millisecondsSinceEpoch
        expiresMs = reservation.expiresAt.millisecondsSinceEpoch
        updatedMs = reservation.updatedAt.millisecondsSinceEpoch
    }

    /// The reservation the message carries; an unknown state is `corrupt`.
    public func domain() throws(FulcrumError) -> Reservation {
        guard let parsed = ReservationState(name: state) else {
            throw FulcrumError(.corrupt, "unknown reservation state '\(state)'", path: "state")
        }
        return Reservation(
            order: order, state: parsed, lines: lines.map { ReservationLine(node: $0.node, sku: $0.sku, quantity: $0.quantity) },
            createdAt: Timestamp(millisecondsSinceEpoch: createdMs), expiresAt: Timestamp(millisecondsSinceEpoch: expiresMs),
            updatedAt: Timestamp(millisecondsSinceEpoch: updatedMs))
    }
}

extension Fulcrum_V1_AuditEntry {
    public init(_ entry: AuditEntry) {
        self.init()
        id = entry.id
        atMs = entry.atMilliseconds
        token = entry.token
        request = entry.request
        operation = entry.operation
        subject = entry.subject
        detail = entry.detail
    }
}

extension AuditEntry {
    public init(_ entry: Fulcrum_V1_AuditEntry) {
        self.init(
            id: entry.id, atMilliseconds: entry.atMs, caller: Caller(token: entry.token, request: entry.request),
            operation: entry.operation, subject: entry.subject, detail: entry.detail)
    }
}
