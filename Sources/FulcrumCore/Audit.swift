import Foundation

/// Who asked for a change, as the audit trail records it: the token's name
/// (never its secret) and the request's id on its protocol.
public struct Caller: Sendable, Hashable {
    public var token: String
    /// `rpc:CONNECTION/REQUEST`, `http:X-Request-Id` or `http:N`, `signal`, ...
    public var request: String

    public init(token: String, request: String) {
        self.token = token
        self.request = request
    }
}

/// One line of the audit trail: an inventory change or an admin action,
/// written durably with the change itself.
public struct AuditEntry: Sendable, Hashable, Codable {
    /// The entry's place in the trail (increasing with time), for paging.
    public var id: String
    public var atMilliseconds: Int64
    public var token: String
    public var request: String
    /// The operation's name as metrics and the protocol say it (`adjust`, `replay_dead_letter`, ...).
    public var operation: String
    /// What it touched: `NODE/SKU`, a receipt, `PROVIDER/MESSAGE`, a file.
    public var subject: String
    /// What it did, briefly: `set 5`, `delta -3 (cycle count)`, ...
    public var detail: String

    public init(
        id: String, atMilliseconds: Int64, caller: Caller, operation: String, subject: String, detail: String
    ) {
        self.id = id
        self.atMilliseconds = atMilliseconds
        token = caller.token
        request = caller.request
        self.operation = operation
        self.subject = subject
        self.detail = detail
    }

    enum CodingKeys: String, CodingKey {
        case id, token, request, operation, subject, detail
        case atMilliseconds = "at_ms"
    }

    /// The entry as the gateway and the CLI show it.
    public var json: JSON {
        .orderedObject([
            ("id", .string(id)), ("at_ms", .integer(atMilliseconds)), ("token", .string(token)), ("request", .string(request)),
            ("operation", .string(operation)), ("subject", .string(subject)), ("detail", .string(detail)),
        ])
    }

    /// What the ledger's records database holds: the entry's JSON.
    public func encoded() -> [UInt8] { Array(json.rendered.utf8) }

    public static func decode(_ bytes: [UInt8]) throws(FulcrumError) -> AuditEntry {
        do {
            return try JSONDecoder().decode(AuditEntry.self, from: Data(bytes))
        } catch {
            throw FulcrumError(.corrupt, "an audit entry does not decode: \(error)", path: "audit")
        }
    }
}

extension LedgerCommand {
    /// The audit trail's operation, subject and detail for a command that
    /// changes inventory; nil for reservations (their entries say enough).
    public var auditLine: (operation: String, subject: String, detail: String)? {
        func withReason(_ text: String, _ reason: String) -> String { reason.isEmpty ? text : "\(text) (\(reason))" }
        switch self {
        case .adjust(let request):
            let change: String =
                switch request.change {
                case .set(let quantity): "set \(quantity)"
                case .delta(let quantity): "delta \(quantity)"
                }
            let counted = request.asOf.map { " counted at \($0.millisecondsSinceEpoch)" } ?? ""
            let source = request.source.isEmpty ? "" : " from \(request.source) \(request.sourceReference)"
            return ("adjust", "\(request.node)/\(request.sku)", withReason(change + counted + source, request.reason))
        case .transfer(let request):
            return (
                "transfer", request.transfer,
                "\(request.quantity) of \(request.sku) from \(request.fromNode) to \(request.toNode) due \(request.due.millisecondsSinceEpoch)"
            )
        case .schedule(let request):
            let receipt = request.receipt
            return (
                "schedule", receipt.receipt,
                "\(receipt.quantity) of \(receipt.node)/\(receipt.sku) due \(receipt.due.millisecondsSinceEpoch)"
            )
        case .reschedule(let request):
            return ("reschedule", request.receipt, "due \(request.due.millisecondsSinceEpoch)")
        case .receive(let request):
            return ("receive", request.receipt, request.quantity.map { "\($0) units" } ?? "in full")
        case .setSafetyStock(let request):
            return ("set_safety_stock", "\(request.node)/\(request.sku)", "\(request.quantity)")
        case .returnToStock(let request):
            return (
                "return_to_stock", request.returnID,
                "at \(request.node): " + request.lines.map { "\($0.disposition) \($0.quantity) \($0.sku)" }.joined(separator: ", ")
            )
        case .allocate(let allocation):
            return ("allocate", "\(allocation.node)/\(allocation.sku)/\(allocation.channel)", allocation.terms)
        case .reserve, .confirm, .ship, .release, .expireDue:
            return nil
        }
    }
}
