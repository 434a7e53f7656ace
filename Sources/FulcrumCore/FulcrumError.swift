/// A client-facing error: a stable machine-readable code, a human message, and
/// where in the request the problem is (a field path such as `lines[2].quantity`).
///
/// It is a struct, not an enum, so that new codes can be added without breaking
/// clients that switch over the known ones (the habit of SwiftNIO's errors).
public struct FulcrumError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A stable error code, spelled in `snake_case` on the wire.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// A field is missing, malformed, out of range, or duplicated.
        public static let invalidArgument = Code(rawValue: "invalid_argument")
        /// An input names a field its format does not have (the message names the one meant).
        public static let unknownField = Code(rawValue: "unknown_field")
        /// The request is not well-formed JSON, or a field has the wrong type.
        public static let invalidJSON = Code(rawValue: "invalid_json")
        /// Two entities of one kind share an id.
        public static let duplicateID = Code(rawValue: "duplicate_id")
        /// A field names a node (or other entity) the request does not define.
        public static let unknownReference = Code(rawValue: "unknown_reference")
        /// A reservation or adjustment asks for more units than are available.
        public static let insufficientStock = Code(rawValue: "insufficient_stock")
        /// No reservation exists for the order id.
        public static let reservationNotFound = Code(rawValue: "reservation_not_found")
        /// A reservation exists for the order id and is still open.
        public static let reservationExists = Code(rawValue: "reservation_exists")
        /// No scheduled receipt exists for the receipt id.
        public static let receiptNotFound = Code(rawValue: "receipt_not_found")
        /// A scheduled receipt with that id already exists.
        public static let receiptExists = Code(rawValue: "receipt_exists")
        /// The reservation's state does not allow the requested transition.
        public static let illegalTransition = Code(rawValue: "illegal_transition")
        /// An idempotency key was reused with a different request.
        public static let idempotencyConflict = Code(rawValue: "idempotency_conflict")
        /// A bounded queue is full; retry later.
        public static let overloaded = Code(rawValue: "overloaded")
        /// The ledger is closed or closing, or a write's outcome is unknown
        /// (retry it with the same idempotency key).
        public static let unavailable = Code(rawValue: "unavailable")
        /// A write reached a replica that follows: its path is the leader's
        /// address when one is known; send it there.
        public static let notLeader = Code(rawValue: "not_leader")
        /// A read asked for a log position (`min_position`) this replica did
        /// not apply within the bounded wait: retry, or read from the leader.
        public static let stale = Code(rawValue: "stale")
        /// Another process serves the data directory (the message names its pid).
        public static let locked = Code(rawValue: "locked")
        /// The data directory does not hold a Fulcrum ledger.
        public static let notALedger = Code(rawValue: "not_a_ledger")
        /// The storage engine failed (disk full, I/O error, ...).
        public static let storage = Code(rawValue: "storage_error")
        /// Stored data does not decode or breaks an invariant.
        public static let corrupt = Code(rawValue: "corrupt")
        /// A solver library failed (an internal error of GLPK, say).
        public static let solverFailure = Code(rawValue: "solver_failure")
        /// An optimize-and-reserve plan went stale (a concurrent change took
        /// its stock) on every attempt.
        public static let planConflict = Code(rawValue: "plan_conflict")
        /// The connection must first present the server's token in a Hello frame.
        public static let unauthenticated = Code(rawValue: "unauthenticated")
        /// The token is good but lacks the scope the operation needs (the message names it).
        public static let forbidden = Code(rawValue: "forbidden")
        /// A tokens file is not valid (its path says file:line:column and field).
        public static let invalidTokens = Code(rawValue: "invalid_tokens")
        /// The request's operation (opcode) is not one the server knows.
        public static let unknownOperation = Code(rawValue: "unknown_operation")
        /// No such route (the HTTP gateway).
        public static let notFound = Code(rawValue: "not_found")
        /// The route exists, but not with this method (the HTTP gateway).
        public static let methodNotAllowed = Code(rawValue: "method_not_allowed")
        /// A request body is larger than the gateway accepts.
        public static let payloadTooLarge = Code(rawValue: "payload_too_large")
        /// A scenario file is not valid (its path says file:line:column and field).
        public static let invalidScenario = Code(rawValue: "invalid_scenario")
        /// A conditional write found a record changed: another write got there first.
        public static let recordConflict = Code(rawValue: "record_conflict")
        /// A journey file is not valid (its path says file:line:column and field).
        public static let invalidJourney = Code(rawValue: "invalid_journey")
        /// A SKU catalogue file is not valid (its path says file:line and field).
        public static let invalidCatalogue = Code(rawValue: "invalid_catalogue")
        /// A fulfillment profiles file is not valid (its path says file:line:column and field).
        public static let invalidProfiles = Code(rawValue: "invalid_profiles")
        /// An alerts file is not valid (its path says file:line:column and field).
        public static let invalidAlerts = Code(rawValue: "invalid_alerts")
        /// A policy condition does not parse (its path says where, with the column).
        public static let invalidPolicy = Code(rawValue: "invalid_policy")
        /// A business event asks for a state transition the state framework does not allow.
        public static let transitionNotAllowed = Code(rawValue: "transition_not_allowed")
        /// An execution policy failed the step (its path names the policy).
        public static let policyFailed = Code(rawValue: "policy_failed")
        /// A provider could not deliver a message after its retries (dead-lettered).
        public static let deliveryFailed = Code(rawValue: "delivery_failed")
        /// A mapping file is not valid (its path says file:line:column and field).
        public static let invalidMapping = Code(rawValue: "invalid_mapping")
        /// A value from a provider has no entry in its mapping group.
        public static let unmappedValue = Code(rawValue: "unmapped_value")
        /// A webhook's signature does not verify, or it was already received.
        public static let badSignature = Code(rawValue: "bad_signature")
    }

    public var code: Code
    public var message: String
    /// Where the problem is: a field path in the request, or a file path.
    public var path: String

    /// The same error inside `container` (`items[3]`): its path becomes
    /// `items[3].sku`, `items[3][0]`, or `items[3]` when it had none.
    public func within(_ container: String) -> FulcrumError {
        let inner = path.isEmpty ? "" : path.hasPrefix("[") ? path : "." + path
        return FulcrumError(code, message, path: container + inner)
    }

    public init(_ code: Code, _ message: String, path: String = "") {
        self.code = code
        self.message = message
        self.path = path
    }

    public var description: String {
        path.isEmpty ? "\(code): \(message)" : "\(code) at \(path): \(message)"
    }

}

extension FulcrumError.Code {
    /// Pattern-match an error by code: `catch FulcrumError.Code.overloaded`.
    public static func ~= (code: FulcrumError.Code, error: any Error) -> Bool {
        (error as? FulcrumError)?.code == code
    }
}
