import FulcrumCore

// An order's state and timeline between their domain values and their wire
// messages, both ways: the server answers GetOrder with them, clients read
// them back without any JSON on the way.

extension Fulcrum_V1_Order {
    public init(_ order: OrderRecord) {
        self.init()
        id = order.id
        source = order.source
        state = order.state
        shipTo = Fulcrum_V1_Address(order.shipTo)
        if let method = order.shippingMethod { shippingMethod = method }
        lines = order.lines.map { line in
            .with {
                $0.id = line.id
                $0.sku = line.sku
                $0.quantity = line.quantity
                $0.state = line.state
                $0.allocations = line.allocations
            }
        }
        attributes = order.attributes
        if let node = order.sourceNode { sourceNode = node }
        if let kind = order.sourceKind { sourceKind = kind }
        if let profile = order.profile { self.profile = profile }
        if let node = order.pickupNode { pickupNode = node }
        curbside = order.curbside ?? false
        if let channel = order.channel { self.channel = channel }
        if let fill = order.fill { self.fill = Int64(fill) }
        if let shipComplete = order.shipComplete { self.shipComplete = shipComplete }
        if let maxShipments = order.maxShipments { self.maxShipments = Int64(maxShipments) }
        if let priority = order.priority { self.priority = priority }
        fulfillmentOrders = order.fulfillmentOrders.map { fulfillmentOrder in
            .with {
                $0.id = fulfillmentOrder.id
                $0.node = fulfillmentOrder.node
                $0.lines = fulfillmentOrder.lines.map { line in
                    .with {
                        $0.line = line.line
                        $0.sku = line.sku
                        $0.quantity = line.quantity
                    }
                }
                $0.state = fulfillmentOrder.state
                if let tracking = fulfillmentOrder.tracking { $0.tracking = tracking }
            }
        }
        func wire(_ lines: [OrderRecord.Return.Line]) -> [Fulcrum_V1_ReturnLine] {
            lines.map { line in
                .with {
                    $0.sku = line.sku
                    $0.quantity = line.quantity
                    $0.disposition = line.disposition ?? ""
                }
            }
        }
        returns = order.returns.map { item in
            .with {
                $0.id = item.id
                $0.lines = wire(item.lines)
                $0.state = item.state
                if let node = item.node { $0.node = node }
                $0.received = wire(item.received)
            }
        }
        if let failure = order.failure {
            self.failure = .with {
                $0.step = failure.step
                $0.code = failure.code
                $0.message = failure.message
                if let resume = failure.resumeStep { $0.resumeStep = resume }
                $0.atMs = failure.atMs
            }
        }
        waiting = order.waiting.map { waiting in
            .with {
                $0.step = waiting.step
                $0.messages = waiting.messages
                $0.fields = waiting.fields
            }
        }
        createdMs = order.createdMs
        updatedMs = order.updatedMs
    }

    /// The order the message carries.
    public var domain: OrderRecord {
        var order = OrderRecord(
            OrderIntake(
                id: id, source: source, shipTo: shipTo.address, shippingMethod: hasShippingMethod ? shippingMethod : nil,
                lines: [], attributes: attributes),
            at: Timestamp(millisecondsSinceEpoch: createdMs))
        order.state = state
        order.lines = lines.map {
            .init(id: $0.id, sku: $0.sku, quantity: $0.quantity, state: $0.state, allocations: $0.allocations)
        }
        order.sourceNode = hasSourceNode ? sourceNode : nil
        order.sourceKind = hasSourceKind ? sourceKind : nil
        order.profile = hasProfile ? profile : nil
        order.pickupNode = hasPickupNode ? pickupNode : nil
        order.curbside = curbside ? true : nil
        order.channel = hasChannel ? channel : nil
        order.fill = hasFill ? Int(fill) : nil
        order.shipComplete = hasShipComplete ? shipComplete : nil
        order.maxShipments = hasMaxShipments ? Int(maxShipments) : nil
        order.priority = hasPriority ? priority : nil
        order.fulfillmentOrders = fulfillmentOrders.map {
            .init(
                id: $0.id, node: $0.node, lines: $0.lines.map { .init(line: $0.line, sku: $0.sku, quantity: $0.quantity) },
                state: $0.state, tracking: $0.hasTracking ? $0.tracking : nil)
        }
        func domain(_ lines: [Fulcrum_V1_ReturnLine]) -> [OrderRecord.Return.Line] {
            lines.map { .init(sku: $0.sku, quantity: $0.quantity, disposition: $0.disposition.isEmpty ? nil : $0.disposition) }
        }
        order.returns = returns.map {
            .init(id: $0.id, lines: domain($0.lines), state: $0.state, node: $0.hasNode ? $0.node : nil, received: domain($0.received))
        }
        if hasFailure {
            order.failure = .init(
                step: failure.step, code: failure.code, message: failure.message,
                resumeStep: failure.hasResumeStep ? failure.resumeStep : nil, atMs: failure.atMs)
        }
        order.waiting = waiting.map { .init(step: $0.step, messages: $0.messages, fields: $0.fields) }
        order.updatedMs = updatedMs
        return order
    }
}

extension Fulcrum_V1_TimelineEntry {
    public init(_ entry: TimelineEntry) {
        self.init()
        atMs = entry.atMs
        entity = entry.entity
        kind = entry.kind.rawValue
        if let step = entry.step { self.step = step }
        text = entry.text
        if let code = entry.code { self.code = code }
    }

    /// The entry the message carries; an unknown kind is `corrupt`.
    public func domain() throws(FulcrumError) -> TimelineEntry {
        guard let kind = TimelineEntry.Kind(rawValue: kind) else {
            throw FulcrumError(.corrupt, "unknown timeline entry kind '\(kind)'", path: "timeline.kind")
        }
        return TimelineEntry(
            atMs: atMs, entity: entity, kind: kind, step: hasStep ? step : nil, text: text, code: hasCode ? code : nil)
    }
}
