import Foundation

/// Why an order does not use a node: `--explain`'s answer, per order and
/// unused node.
public struct NodeExplanation: Sendable, Hashable {
    public enum Reason: Sendable, Hashable {
        /// The node could fill some of the order, but the best plan that ships
        /// at least one unit from it costs this much more (negative: less,
        /// which only a greedy strategy's plan leaves room for).
        case moreExpensive(extraCost: Double)
        /// The order ships complete, and no complete shipment can include this
        /// node (the stock cannot fill the whole order with it).
        case shipCompleteUnmet
        /// The time limit ran out before this node was priced.
        case unpriced
        /// The node cannot fill these lines (nil line: none of the order's lines), for this reason.
        case ineligible(line: String?, Ineligibility)
        /// The node may not receive the return, for this reason.
        case returnIneligible(ReturnIneligibility)
    }

    public var node: String
    public var reasons: [Reason]

    package init(node: String, reasons: [Reason]) {
        self.node = node
        self.reasons = reasons
    }
}

/// The explanations of one order.
public struct OrderExplanation: Sendable, Hashable {
    public var order: String
    public var nodes: [NodeExplanation]

    package init(order: String, nodes: [NodeExplanation]) {
        self.order = order
        self.nodes = nodes
    }
}

/// Why a node cannot fill a line: the answer `--explain` gives, and the
/// filter that keeps the model to eligible candidates.
public enum Ineligibility: Sendable, Hashable {
    case disabled
    case excluded(rule: Int)
    case cannotShip
    case tooFar(distanceKilometers: Double, limitKilometers: Double)
    case notThePickupNode
    case noUsableStock
    case noCapacity
    /// A no-split line needs more than the node can give in one piece.
    case tooLittleForNoSplit(usable: Int)
}
