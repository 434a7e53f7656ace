/// Anything that runs ledger commands durably: the ledger itself, and the
/// service in front of it. The typed wrappers below come with it.
public protocol LedgerCommandExecutor: Sendable {
    /// Runs a command and returns its result once it is durable.
    func execute(_ command: LedgerCommand, idempotencyKey: String?) async throws(FulcrumError) -> LedgerResult
}

// Typed wrappers: one request type and one result type per command.
extension LedgerCommandExecutor {
    public func adjust(_ request: AdjustRequest, idempotencyKey: String? = nil) async throws(FulcrumError)
        -> Position
    {
        guard case .position(_, let position) = try await execute(.adjust(request), idempotencyKey: idempotencyKey)
        else { preconditionFailure("adjust returns a position") }
        return position
    }

    public func schedule(_ request: ScheduleRequest, idempotencyKey: String? = nil) async throws(FulcrumError)
        -> ScheduledReceipt
    {
        guard case .receipt(let receipt) = try await execute(.schedule(request), idempotencyKey: idempotencyKey)
        else { preconditionFailure("schedule returns a receipt") }
        return receipt
    }

    public func transfer(_ request: TransferRequest, idempotencyKey: String? = nil) async throws(FulcrumError)
        -> ScheduledReceipt
    {
        guard case .receipt(let receipt) = try await execute(.transfer(request), idempotencyKey: idempotencyKey)
        else { preconditionFailure("transfer returns a receipt") }
        return receipt
    }

    public func returnToStock(_ request: ReturnToStockRequest, idempotencyKey: String? = nil) async throws(FulcrumError)
        -> [PositionKey: Position]
    {
        guard case .positions(let positions) = try await execute(.returnToStock(request), idempotencyKey: idempotencyKey)
        else { preconditionFailure("returnToStock returns positions") }
        return positions
    }

    public func receive(_ request: ReceiveRequest, idempotencyKey: String? = nil) async throws(FulcrumError)
        -> Position
    {
        guard case .position(_, let position) = try await execute(.receive(request), idempotencyKey: idempotencyKey)
        else { preconditionFailure("receive returns a position") }
        return position
    }

    public func setSafetyStock(_ request: SetSafetyStockRequest, idempotencyKey: String? = nil)
        async throws(FulcrumError) -> Position
    {
        guard
            case .position(_, let position) = try await execute(
                .setSafetyStock(request), idempotencyKey: idempotencyKey)
        else { preconditionFailure("setSafetyStock returns a position") }
        return position
    }

    public func reserve(_ request: ReserveRequest, idempotencyKey: String? = nil) async throws(FulcrumError)
        -> Reservation
    {
        try await reservation(.reserve(request), idempotencyKey)
    }

    public func confirm(order: String, idempotencyKey: String? = nil) async throws(FulcrumError) -> Reservation {
        try await reservation(.confirm(order: order), idempotencyKey)
    }

    public func ship(order: String, idempotencyKey: String? = nil) async throws(FulcrumError) -> Reservation {
        try await reservation(.ship(order: order), idempotencyKey)
    }

    public func release(order: String, idempotencyKey: String? = nil) async throws(FulcrumError) -> Reservation {
        try await reservation(.release(order: order), idempotencyKey)
    }

    /// Expires the unconfirmed reservations whose time to live has passed by
    /// the ledger's clock; returns their orders.
    public func expireDue() async throws(FulcrumError) -> [String] {
        guard case .expired(let orders) = try await execute(.expireDue, idempotencyKey: nil) else {
            preconditionFailure("expireDue returns orders")
        }
        return orders
    }

    private func reservation(_ command: LedgerCommand, _ idempotencyKey: String?) async throws(FulcrumError)
        -> Reservation
    {
        guard case .reservation(let reservation) = try await execute(command, idempotencyKey: idempotencyKey) else {
            preconditionFailure("\(command) returns a reservation")
        }
        return reservation
    }
}
