import FulcrumCore
import FulcrumSolver

/// What a step does once its policies passed.
public enum StepAction: Sendable, Hashable {
    /// Solves the order against the ledger (the network's nodes, narrowed by
    /// `source_node`/`source_kind`) under a fulfillment profile (the step's,
    /// or `default`) and reserves the whole plan. A strategy given here
    /// overrides the profile's.
    case optimizeAndReserve(strategy: Strategy?, profile: String?)
    /// Reserves every line at the order's `source_node` (set by a policy).
    case assignSource
    /// Confirms the reservation (stock committed) and makes one fulfillment order per shipping node.
    case createFulfillmentOrders
    /// Sends messages to a provider through its outbox: one per fulfillment
    /// order still `created` (marked `sent` once acknowledged), or one about the order.
    case sendToProvider(provider: String, message: ProviderMessageKind)
    /// A fulfillment order shipped (event field `fulfillment_order`); the order
    /// ships in the ledger once all of them did.
    case confirmShipment
    /// Records a pickup order's fulfillment order ready at its store
    /// (`fulfillment_order.prepared_for_pickup`) or collected
    /// (`fulfillment_order.picked_up`, which ships the reservation).
    case recordPickup
    /// Cancels the order and releases its stock.
    case cancelAndRelease
    /// Picks the node a return (event field `return`, the event's return lines) goes back to.
    case optimizeReturnLocation
    /// A return received at a node (event fields `return`, `node` unless it
    /// was located, `refurbish_due_ms`; return lines with dispositions): its
    /// units back to stock, refurbished or written off in the ledger.
    case restockReturn

    public var name: String {
        switch self {
        case .optimizeAndReserve: "optimize_and_reserve"
        case .assignSource: "assign_source"
        case .createFulfillmentOrders: "create_fulfillment_orders"
        case .sendToProvider: "send_to_provider"
        case .confirmShipment: "confirm_shipment"
        case .recordPickup: "record_pickup"
        case .cancelAndRelease: "cancel_and_release"
        case .optimizeReturnLocation: "optimize_return_location"
        case .restockReturn: "restock_return"
        }
    }

    /// The business events raised when a step with this action succeeds or
    /// fails, unless the step names its own.
    var defaultEvents: (success: [String], failure: [String]) {
        switch self {
        case .optimizeAndReserve, .assignSource: (["order.reserved"], ["order.sourcing_failed"])
        case .createFulfillmentOrders: (["order.released"], ["order.release_failed"])
        case .sendToProvider(_, .fulfillmentOrders): (["fulfillment_orders.sent"], ["fulfillment_orders.send_failed"])
        case .sendToProvider(_, .order): (["order.notified"], ["order.notify_failed"])
        case .confirmShipment: (["order.shipment_recorded"], ["order.shipment_failed"])
        case .recordPickup: (["order.pickup_recorded"], ["order.pickup_failed"])
        case .cancelAndRelease: (["order.cancelled"], ["order.cancel_failed"])
        case .optimizeReturnLocation: (["return.located"], ["return.locate_failed"])
        case .restockReturn: (["return.inspected"], ["return.restock_failed"])
        case .sendToProvider(_, .refund): (["return.refunded"], ["return.refund_failed"])
        }
    }
}

/// What a provider message is about.
public enum ProviderMessageKind: String, Sendable, Hashable {
    /// One message per fulfillment order to send (topic `fulfillment_order.created`).
    case fulfillmentOrders = "fulfillment_orders"
    /// One message with the order (topic `order.STATE`).
    case order
    /// One message asking the storefront to refund a return that was
    /// restocked or disposed of (topic `return.refund_requested`; event field
    /// `return`); the return is `refunded` once the provider takes it.
    case refund
}

/// An execution policy: a rule that fails the step or sets fields when its condition holds.
public struct ExecutionPolicy: Sendable, Hashable {
    public enum Effect: Sendable, Hashable {
        case fail(message: String)
        case set([String: ConditionValue])
    }
    public var id: String
    public var when: Condition
    public var effect: Effect
}

/// Solve the orders that reach a step within a window together.
public struct BatchWindow: Sendable, Hashable {
    public var windowMilliseconds: Int
    public var ordersMax: Int
}

/// One step of a journey: which events start it, which orders it applies
/// to, its policies and action, and what it raises.
public struct Step: Sendable, Hashable {
    public var id: String
    public var journey: String
    public var inputEvents: [String]
    public var filter: Condition?
    public var policies: [ExecutionPolicy]
    public var action: StepAction?
    /// An order state the step moves the order to when it succeeds (custom states).
    public var transition: String?
    public var successEvents: [String]
    public var failureEvents: [String]
    /// Where `reprocess` resumes when this step failed.
    public var resumeOnError: String?
    public var batch: BatchWindow?
    /// optimize_and_reserve: what a shortage does; nil: what the order's
    /// fulfillment profile says, else fail.
    public var onShortage: ShortagePolicy?
}

/// Every journey of a file, with its state framework and policies.
public struct JourneyBook: Sendable, Hashable {
    public var states: StateFramework
    public var policies: [String: ExecutionPolicy]
    /// All steps of all journeys, in file order: an event runs every step listening to it, in this order.
    public var steps: [Step]
    /// The file it came from (or `built-in`).
    public var file: String

    public func step(_ id: String) -> Step? { steps.first { $0.id == id } }

    /// The fulfillment profiles steps and policies name, each with the
    /// first naming it (`step ID`, `policy ID`).
    public var profileNames: [(profile: String, namedBy: String)] {
        var seen = Set<String>()
        let named = steps.compactMap { step -> (String, String)? in
            guard case .optimizeAndReserve(_, let profile?) = step.action else { return nil }
            return (profile, "step \(step.id)")
        } + policies.sorted { $0.key < $1.key }.compactMap { id, policy -> (String, String)? in
            guard case .set(let values) = policy.effect, case .string(let profile)? = values["profile"] else { return nil }
            return (profile, "policy \(id)")
        }
        return named.filter { seen.insert($0.0).inserted }
    }

    /// The steps that listen to `event`, with their index in `steps`.
    func steps(listeningTo event: String) -> [(index: Int, step: Step)] {
        steps.enumerated().filter { $0.element.inputEvents.contains(event) }.map { ($0.offset, $0.element) }
    }
}
