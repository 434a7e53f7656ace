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
        lines = reservation.lines.map { line in
            .with { $0.node = line.node; $0.sku = line.sku; $0.quantity = line.quantity; $0.receipt = line.receipt }
        }
        createdMs = reservation.createdAt.millisecondsSinceEpoch
        expiresMs = reservation.expiresAt.millisecondsSinceEpoch
        updatedMs = reservation.updatedAt.millisecondsSinceEpoch
        channel = reservation.channel
    }

    /// The reservation the message carries; an unknown state is `corrupt`.
    public func domain() throws(FulcrumError) -> Reservation {
        guard let parsed = ReservationState(name: state) else {
            throw FulcrumError(.corrupt, "unknown reservation state '\(state)'", path: "state")
        }
        return Reservation(
            order: order, state: parsed, lines: lines.map { ReservationLine(node: $0.node, sku: $0.sku, quantity: $0.quantity, receipt: $0.receipt) },
            createdAt: Timestamp(millisecondsSinceEpoch: createdMs), expiresAt: Timestamp(millisecondsSinceEpoch: expiresMs),
            updatedAt: Timestamp(millisecondsSinceEpoch: updatedMs), channel: channel)
    }
}

extension Fulcrum_V1_Allocation {
    public init(_ allocation: Allocation) {
        self.init()
        sku = allocation.sku
        node = allocation.node
        channel = allocation.channel
        switch allocation.amount {
        case .quantity(let units): quantity = units
        case .shareBasisPoints(let points): shareBasisPoints = points
        }
        overflow = allocation.overflow
        expiresMs = allocation.expiresAt?.millisecondsSinceEpoch ?? 0
    }

    /// The allocation the message carries: exactly one of quantity and share.
    /// (Requests set `overflow` from AllocateRequest's, true when absent.)
    public func domain(path: String = "") throws(FulcrumError) -> Allocation {
        let amount: Allocation.Amount
        switch (hasQuantity, hasShareBasisPoints) {
        case (true, false): amount = .quantity(quantity)
        case (false, true): amount = .shareBasisPoints(shareBasisPoints)
        default:
            throw FulcrumError(
                .invalidArgument, "exactly one of quantity and share_basis_points is required",
                path: path.isEmpty ? "quantity" : "\(path).quantity")
        }
        return Allocation(
            sku: sku, node: node, channel: channel, amount: amount, overflow: overflow,
            expiresAt: expiresMs == 0 ? nil : Timestamp(millisecondsSinceEpoch: expiresMs))
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
