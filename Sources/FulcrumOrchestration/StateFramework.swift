import FulcrumCore

/// The kinds of entity the state framework governs.
public enum EntityKind: String, Sendable, Hashable, CaseIterable, Codable {
    case order
    case orderLine = "order_line"
    case fulfillmentOrder = "fulfillment_order"
    case returnOrder = "return"
}

/// States and allowed transitions per entity kind: the built-in ones, plus
/// those a journey file adds. A transition not listed is never applied; the
/// step that asked for it fails with `transition_not_allowed`, recorded.
public struct StateFramework: Sendable, Hashable {
    public struct Transition: Sendable, Hashable {
        public var from: String
        public var to: String
        public init(from: String, to: String) {
            self.from = from
            self.to = to
        }
    }

    public private(set) var states: [EntityKind: Set<String>]
    public private(set) var transitions: [EntityKind: Set<Transition>]

    /// The built-in framework.
    public static let builtIn: StateFramework = {
        typealias O = OrderStates
        typealias L = LineStates
        typealias F = FulfillmentOrderStates
        typealias R = ReturnStates
        func pairs(_ list: [(String, String)]) -> Set<Transition> { Set(list.map { Transition(from: $0.0, to: $0.1) }) }
        return StateFramework(
            states: [
                .order: [
                    O.created, O.backordered, O.preordered, O.reserved, O.released, O.partiallyShipped, O.shipped, O.cancelled, O.readyForPickup, O.pickedUp,
                ],
                .orderLine: [L.open, L.backordered, L.preordered, L.reserved, L.released, L.shipped, L.cancelled, L.pickedUp],
                .fulfillmentOrder: [F.created, F.sent, F.shipped, F.cancelled, F.readyForPickup, F.pickedUp],
                .returnOrder: [R.requested, R.located, R.received, R.inspected, R.restocked, R.disposed, R.refunded],
            ],
            transitions: [
                .order: pairs([
                    (O.created, O.reserved), (O.created, O.cancelled), (O.reserved, O.released),
                    (O.created, O.backordered), (O.backordered, O.reserved), (O.backordered, O.cancelled),
                    (O.created, O.preordered), (O.backordered, O.preordered), (O.preordered, O.reserved),
                    (O.preordered, O.backordered), (O.preordered, O.cancelled),
                    (O.reserved, O.cancelled), (O.released, O.partiallyShipped), (O.released, O.shipped),
                    (O.partiallyShipped, O.shipped), (O.released, O.cancelled),
                    // ship_available: the next shipment group, or the rest cancelled.
                    (O.partiallyShipped, O.reserved), (O.partiallyShipped, O.cancelled),
                    (O.released, O.readyForPickup), (O.readyForPickup, O.pickedUp), (O.readyForPickup, O.cancelled),
                ]),
                .orderLine: pairs([
                    (L.open, L.backordered), (L.backordered, L.reserved), (L.backordered, L.cancelled),
                    (L.open, L.preordered), (L.backordered, L.preordered), (L.preordered, L.reserved),
                    (L.preordered, L.backordered), (L.preordered, L.cancelled),
                    (L.open, L.reserved), (L.reserved, L.released), (L.released, L.shipped), (L.open, L.cancelled),
                    (L.reserved, L.cancelled), (L.released, L.cancelled), (L.released, L.pickedUp),
                ]),
                .fulfillmentOrder: pairs([
                    (F.created, F.sent), (F.sent, F.shipped), (F.created, F.cancelled), (F.sent, F.cancelled),
                    (F.created, F.readyForPickup), (F.sent, F.readyForPickup), (F.readyForPickup, F.pickedUp),
                    (F.readyForPickup, F.cancelled),
                ]),
                .returnOrder: pairs([
                    (R.requested, R.located), (R.requested, R.received), (R.located, R.received), (R.received, R.inspected),
                    (R.inspected, R.restocked), (R.inspected, R.disposed), (R.restocked, R.refunded), (R.disposed, R.refunded),
                ]),
            ])
    }()

    /// Adds custom states and transitions (between any known states).
    mutating func add(states added: [String], transitions addedTransitions: [Transition], to kind: EntityKind) {
        states[kind, default: []].formUnion(added)
        transitions[kind, default: []].formUnion(addedTransitions)
    }

    public func isState(_ state: String, of kind: EntityKind) -> Bool { states[kind]?.contains(state) ?? false }

    public func allows(_ kind: EntityKind, from: String, to: String) -> Bool {
        transitions[kind]?.contains(Transition(from: from, to: to)) ?? false
    }

    /// Throws `transition_not_allowed` naming the entity unless `from → to` is allowed.
    public func check(_ kind: EntityKind, _ entity: String, from: String, to: String) throws(FulcrumError) {
        guard allows(kind, from: from, to: to) else {
            throw FulcrumError(
                .transitionNotAllowed, "\(kind.rawValue) \(entity) cannot go from \(from) to \(to)",
                path: "\(kind.rawValue):\(entity)")
        }
    }
}
