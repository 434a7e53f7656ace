import FulcrumCore
import FulcrumLedger
import FulcrumSolver

extension Orchestrator {
    /// Runs a built-in action on the outcome being built. Returns true when
    /// the step now waits for a provider (its events are raised on acknowledgement).
    func perform(
        _ action: StepAction, step: Step, slot: UInt16, queued: QueuedEvent, outcome: inout StepOutcome,
        log: inout TimelineLog, attempt: Int
    ) async throws(FulcrumError) -> Bool {
        let id = outcome.order.id
        switch action {
        case .optimizeAndReserve(let strategy, let stepProfile):
            // A policy's choice for this order wins over the step's.
            let profile = outcome.order.profile ?? stepProfile
            if outcome.order.state == OrderStates.preordered, try fillPreorder(outcome: &outcome, log: &log) { return false }
            let stateBefore = outcome.order.state
            let transitionEntry = log.entries.count
            try move(.order, id, &outcome.order.state, to: OrderStates.reserved, log: &log)
            let (order, nodes, placement) = try solverInput(outcome.order)
            log.add(
                .action, "order:\(id)",
                "ship-to placed by \(placement.precision.rawValue) (\(placement.matched)): \(placement.latitude), \(placement.longitude)")
            let plan: OptimizeResponse.Plan
            let channel = outcome.order.channel
            if let window = step.batch, attempt == 1 {
                // Orders under different profiles or channels (stock seen differently) are solved in separate windows.
                let batch = step.id + "\u{1}" + (profile ?? "") + "\u{1}" + (channel ?? "")
                plan = try await batcher.plan(order, nodes: nodes, step: batch, window: window) { orders, nodes throws(FulcrumError) in
                    try self.backend.source(
                        OptimizeRequest(orders: orders, nodes: nodes, profile: profile, channel: channel),
                        options: .init(strategy: strategy))
                }
            } else {
                let response = try backend.source(
                    OptimizeRequest(orders: [order], nodes: nodes, profile: profile, channel: channel),
                    options: .init(strategy: strategy))
                plan = response.plans[0]
            }
            outcome.plannedCost = plan.cost
            let backordered = plan.backorders.filter { $0.quantity > 0 }
            let policy = backordered.isEmpty ? ShortagePolicy.fail : try shortagePolicy(step, profile: profile)
            let onHand = backend.reservationLines(plan, order: order)
            if policy == .shipAvailable, !onHand.isEmpty, !order.shipComplete {
                // What is on hand goes on now as the next shipment group; the rest waits.
                try reserve(onHand, outcome: &outcome, log: &log)
                try backorder(backordered, step: step, policy: policy, outcome: &outcome, log: &log)
                outcome.events = step.successEvents + [BusinessEvent.orderPartiallyBackordered]
                return false
            }
            if policy != .fail {
                // Not reserved after all: the order waits instead, promised incoming units or whole.
                if stateBefore != outcome.order.state { log.entries.remove(at: transitionEntry) }
                outcome.order.state = stateBefore
                if policy == .preorder, let promised = try promises(for: backordered, beside: onHand, nodes: nodes, outcome.order) {
                    try preorder(onHand + promised, step: step, outcome: &outcome, log: &log)
                } else {
                    // A ship-complete order waits whole even where the rest could ship.
                    let waiting = policy == .shipAvailable && !order.shipComplete ? policy : .backorder
                    try backorder(backordered, step: step, policy: waiting, outcome: &outcome, log: &log)
                }
                return false
            }
            if stateBefore == OrderStates.backordered || stateBefore == OrderStates.preordered || outcome.order.fill != nil {
                outcome.backorder = .remove(order: id)
            }
            guard backordered.isEmpty else {
                throw FulcrumError(
                    .insufficientStock,
                    "not enough stock: " + backordered.map { "line \($0.line) short \($0.quantity)" }.joined(separator: ", "),
                    path: "order:\(id)")
            }
            try reserve(onHand, outcome: &outcome, log: &log)
            log.add(.action, "order:\(id)", "plan (profile \(profile ?? FulfillmentProfiles.defaultName)\(strategy.map { ", \($0.rawValue)" } ?? "")): \(plan.shipments.count) shipments from \(plan.shipments.map(\.node).joined(separator: ", ")), cost \((plan.cost * 100).rounded() / 100)\(outcome.order.pickupNode == nil ? "" : outcome.order.curbside == true ? ", curbside pickup" : ", pickup")")
        case .assignSource:
            try move(.order, id, &outcome.order.state, to: OrderStates.reserved, log: &log)
            guard let node = outcome.order.sourceNode else {
                throw FulcrumError(.invalidArgument, "assign_source needs source_node, set by a policy", path: "order:\(id)")
            }
            let lines = Dictionary(outcome.order.lines.map { ($0.sku, $0.quantity) }, uniquingKeysWith: +)
            try reserve(
                lines.sorted { $0.key < $1.key }.map { ReservationLine(node: node, sku: $0.key, quantity: $0.value) },
                outcome: &outcome, log: &log)
        case .createFulfillmentOrders:
            try move(.order, id, &outcome.order.state, to: OrderStates.released, log: &log)
            try createFulfillmentOrders(&outcome, log: &log)
            outcome.command = .confirm(order: outcome.order.reservation)
        case .sendToProvider(let provider, let kind):
            return try send(to: provider, kind: kind, step: step, slot: slot, queued: queued, outcome: &outcome, log: &log)
        case .confirmShipment:
            try confirmShipment(queued.event, outcome: &outcome, log: &log)
        case .recordPickup:
            try recordPickup(queued.event, outcome: &outcome, log: &log)
        case .cancelAndRelease:
            let holdsStock = [OrderStates.reserved, OrderStates.preordered, OrderStates.released, OrderStates.readyForPickup]
                .contains(outcome.order.state)
            if [OrderStates.backordered, OrderStates.preordered].contains(outcome.order.state) || outcome.order.fill != nil {
                outcome.backorder = .remove(order: id)
            }
            try move(.order, id, &outcome.order.state, to: OrderStates.cancelled, log: &log)
            // What earlier shipment groups shipped stays shipped: the rest is cancelled.
            for index in outcome.order.lines.indices where outcome.order.lines[index].state != LineStates.shipped {
                try move(.orderLine, "\(id)/\(outcome.order.lines[index].id)", &outcome.order.lines[index].state, to: LineStates.cancelled, log: &log)
            }
            for index in outcome.order.fulfillmentOrders.indices where outcome.order.fulfillmentOrders[index].state != FulfillmentOrderStates.shipped {
                try move(.fulfillmentOrder, outcome.order.fulfillmentOrders[index].id, &outcome.order.fulfillmentOrders[index].state, to: FulfillmentOrderStates.cancelled, log: &log)
            }
            if holdsStock { outcome.command = .release(order: outcome.order.reservation) }
        case .optimizeReturnLocation:
            try locateReturn(queued.event, outcome: &outcome, log: &log)
        case .restockReturn:
            try restockReturn(queued.event, outcome: &outcome, log: &log)
        }
        return false
    }

    /// The order as the solver sees it, the nodes its policies allow, and
    /// where its address was placed (its coordinates, else the gazetteer's).
    private func solverInput(_ record: OrderRecord) throws(FulcrumError) -> (Order, [Node], Placement) {
        let placement: Placement
        let network = try backend.networkNodes()
        let pickupNode = record.pickupNode.flatMap { id in network.first { $0.id == id } }
        if let latitude = record.shipTo.latitude, let longitude = record.shipTo.longitude {
            placement = Placement(latitude: latitude, longitude: longitude, precision: .coordinates, matched: "as given")
        } else if let placed = backend.place(record.shipTo) {
            placement = placed
        } else if let pickupNode {
            // The customer collects: where they live does not enter the costs.
            placement = Placement(
                latitude: pickupNode.location.latitude, longitude: pickupNode.location.longitude, precision: .coordinates,
                matched: "the pickup node \(pickupNode.id)")
        } else {
            throw record.shipTo.unplaceable(path: "order:\(record.id).ship_to")
        }
        if let id = record.pickupNode, pickupNode == nil {
            throw FulcrumError(.unknownReference, "the pickup node \(id) is not in the network", path: "order:\(record.id).pickup_node")
        }
        var nodes = network
        if let source = record.sourceNode { nodes = nodes.filter { $0.id == source } }
        if let kind = record.sourceKind { nodes = nodes.filter { $0.kind.rawValue == kind } }
        guard !nodes.isEmpty else {
            throw FulcrumError(
                .unknownReference,
                network.isEmpty
                    ? "the server has no network (start fulcrumd with --network FILE or --demo)"
                    : "no node of the network matches source_node \(record.sourceNode ?? "-") and source_kind \(record.sourceKind ?? "-")",
                path: "order:\(record.id)")
        }
        let order = Order(
            id: record.id, priority: record.priority ?? 1,
            shipTo: Location(latitude: placement.latitude, longitude: placement.longitude, region: record.shipTo.region),
            shipComplete: record.shipComplete ?? false, maxShipments: record.maxShipments, pickupNode: record.pickupNode,
            // A later shipment group sources only what no earlier one reserved.
            lines: record.lines.compactMap { line in
                let units = record.fill == nil ? line.quantity : line.unreserved
                return units > 0 ? Line(id: line.id, sku: line.sku, quantity: Int(clamping: units)) : nil
            })
        return (order, nodes, placement)
    }

    /// Holds the lines in the ledger (the step's command) and marks the order
    /// lines reserved (`preordered` where units come from a receipt). For an
    /// order shipped in groups (`fill`) the lines are its next group's: the
    /// order's lines take them beside what earlier groups reserved, and a line
    /// they leave short stays `backordered`.
    private func reserve(
        _ lines: [ReservationLine], ttlSeconds: Int64? = nil, outcome: inout StepOutcome, log: inout TimelineLog
    ) throws(FulcrumError) {
        let id = outcome.order.id
        let group = outcome.order.fill != nil || lines.reduce(0, { $0 + $1.quantity }) < outcome.order.totalQuantity
        if group { outcome.order.fill = (outcome.order.fill ?? 0) + 1 }
        var bySKU: [String: [ReservationLine]] = Dictionary(grouping: lines, by: \.sku)
        for index in outcome.order.lines.indices {
            var line = outcome.order.lines[index]
            if !group { line.allocations = [:] }
            // Lines of one SKU take the SKU's reserved units in turn.
            var needed = line.unreserved
            guard needed > 0 else { continue }
            var promised = false
            while needed > 0, var first = bySKU[line.sku]?.first {
                let taken = min(needed, first.quantity)
                line.allocations[first.node, default: 0] += taken
                promised = promised || !first.receipt.isEmpty
                needed -= taken
                first.quantity -= taken
                if first.quantity == 0 { bySKU[line.sku]!.removeFirst() } else { bySKU[line.sku]![0] = first }
            }
            precondition(group || needed == 0, "a reservation covers every unit of an order reserved whole")
            if needed == 0 {
                let waited = line.state == LineStates.backordered
                try move(.orderLine, "\(id)/\(line.id)", &line.state, to: promised ? LineStates.preordered : LineStates.reserved, log: &log)
                if waited && !promised { outcome.lineEvents.append(Self.lineEvent(BusinessEvent.orderLineReserved, line, units: line.quantity)) }
            }
            outcome.order.lines[index] = line
        }
        assert(bySKU.values.allSatisfy(\.isEmpty), "the order's lines take every reserved unit")
        outcome.reserved = lines
        outcome.command = .reserve(
            ReserveRequest(
                order: outcome.order.reservation, lines: lines, ttlSeconds: ttlSeconds ?? options.reservationTTLSeconds,
                channel: outcome.order.channel ?? ""))
        log.add(
            .action, "order:\(id)",
            (outcome.order.fill.map { "shipment group \($0): " } ?? "") + "reserved " + lines.map { "\($0.quantity) \($0.sku) at \($0.node)" + ($0.receipt.isEmpty ? "" : " (preorder of \($0.receipt))") }
                .joined(separator: ", "))
    }

    /// Reservation lines promising what `short` lacks from scheduled
    /// receipts at `nodes` with units left, earliest due first (one receipt
    /// a position, none where `onHand` already reserves); nil when they cannot cover it.
    private func promises(
        for short: [OptimizeResponse.LineQuantity], beside onHand: [ReservationLine], nodes: [Node], _ order: OrderRecord
    ) throws(FulcrumError) -> [ReservationLine]? {
        var lacking: [String: Int64] = [:]
        for item in short {
            guard let line = order.lines.first(where: { $0.id == item.line }) else { continue }
            lacking[line.sku, default: 0] += Int64(item.quantity)
        }
        let allowed = Set(nodes.map(\.id))
        var used = Set(onHand.map(\.key))
        var promised: [ReservationLine] = []
        for (sku, units) in lacking.sorted(by: { $0.key < $1.key }) {
            var needed = units
            for receipt in try backend.openReceipts(sku: sku) where needed > 0 && allowed.contains(receipt.node) {
                guard used.insert(PositionKey(node: receipt.node, sku: sku)).inserted else { continue }
                let taken = min(needed, receipt.open)
                promised.append(ReservationLine(node: receipt.node, sku: sku, quantity: taken, receipt: receipt.receipt))
                needed -= taken
            }
            if needed > 0 { return nil }
        }
        return promised
    }

    /// The order waits, `preordered`, its on-hand units reserved and the
    /// rest promised from receipts, in the queue the sweep watches: once
    /// every receipt arrived its step runs again (`fillPreorder`).
    private func preorder(_ lines: [ReservationLine], step: Step, outcome: inout StepOutcome, log: inout TimelineLog) throws(FulcrumError) {
        let id = outcome.order.id
        try move(.order, id, &outcome.order.state, to: OrderStates.preordered, log: &log)
        // The promise holds until the receipts arrive, not for a checkout's few minutes.
        try reserve(lines, ttlSeconds: Limits.reservationTTLSecondsMax, outcome: &outcome, log: &log)
        var waiting: [String: Int64] = [:]
        var receipts: [String: Int64] = [:]
        for line in lines where !line.receipt.isEmpty {
            waiting[line.sku, default: 0] += line.quantity
            receipts[line.receipt] = try backend.receipt(line.receipt)?.due.millisecondsSinceEpoch
        }
        let previous = try backend.record(RecordKeys.backorder(id)).map { bytes throws(FulcrumError) in
            try RecordCoding.decodeBinary(Backorder.self, bytes, what: "backorder")
        }
        outcome.backorder = .queue(
            Backorder(
                order: id, step: step.id, priority: outcome.order.priority ?? 1, sinceMs: previous?.sinceMs ?? log.atMs,
                shortages: waiting, availableWhenTried: [:], receipts: receipts, onShortage: .preorder))
        outcome.events = [BusinessEvent.orderPreordered]
    }

    /// A preordered order whose receipts all arrived: its promised units are
    /// ordinary reserved units now, so it goes on reserved. False when its
    /// reservation lapsed or was released (the step sources it again).
    private func fillPreorder(outcome: inout StepOutcome, log: inout TimelineLog) throws(FulcrumError) -> Bool {
        let id = outcome.order.id
        guard let reservation = try backend.reservation(order: id), !reservation.state.isTerminal else {
            log.add(.action, "order:\(id)", "the preorder's reservation ended: sourcing it again")
            return false
        }
        guard reservation.lines.allSatisfy(\.receipt.isEmpty) else {
            throw FulcrumError(.insufficientStock, "the preorder's receipts have not all arrived", path: "order:\(id)")
        }
        try move(.order, id, &outcome.order.state, to: OrderStates.reserved, log: &log)
        for index in outcome.order.lines.indices where outcome.order.lines[index].state == LineStates.preordered {
            try move(.orderLine, "\(id)/\(outcome.order.lines[index].id)", &outcome.order.lines[index].state, to: LineStates.reserved, log: &log)
            let line = outcome.order.lines[index]
            outcome.lineEvents.append(Self.lineEvent(BusinessEvent.orderLineReserved, line, units: line.quantity))
        }
        outcome.backorder = .remove(order: id)
        log.add(.action, "order:\(id)", "preorder filled: its receipts arrived")
        return true
    }

    /// What a shortage does at `step`: the step's choice, else its profile's, else fail.
    private func shortagePolicy(_ step: Step, profile: String?) throws(FulcrumError) -> ShortagePolicy {
        if let chosen = step.onShortage { return chosen }
        return try backend.profile(profile).onShortage ?? .fail
    }

    /// The order is short: its short lines `backordered`, in the backorder
    /// queue with what it lacks and what was available (so it is tried again
    /// only once more is). An order not shipped in groups waits whole,
    /// nothing reserved, `backordered`; one shipped in groups keeps its state
    /// (its groups so far go on).
    private func backorder(
        _ short: [OptimizeResponse.LineQuantity], step: Step, policy: ShortagePolicy, outcome: inout StepOutcome,
        log: inout TimelineLog
    ) throws(FulcrumError) {
        let id = outcome.order.id
        let previous = try backend.record(RecordKeys.backorder(id)).map { bytes throws(FulcrumError) in
            try RecordCoding.decodeBinary(Backorder.self, bytes, what: "backorder")
        }
        let firstTime = outcome.order.fill == nil ? outcome.order.state != OrderStates.backordered : previous == nil
        if outcome.order.fill == nil {
            try move(.order, id, &outcome.order.state, to: OrderStates.backordered, log: &log)
            outcome.command = nil
        }
        var shortages: [String: Int64] = [:]
        for item in short {
            guard let index = outcome.order.lines.firstIndex(where: { $0.id == item.line }) else { continue }
            shortages[outcome.order.lines[index].sku, default: 0] += Int64(item.quantity)
            let waiting = outcome.order.lines[index].state == LineStates.backordered
            try move(.orderLine, "\(id)/\(item.line)", &outcome.order.lines[index].state, to: LineStates.backordered, log: &log)
            if !waiting {
                outcome.lineEvents.append(
                    Self.lineEvent(BusinessEvent.orderLineBackordered, outcome.order.lines[index], units: Int64(item.quantity)))
            }
        }
        var available: [String: Int64] = [:]
        for sku in shortages.keys {
            // What this step reserves is not available any more once it commits.
            var reserving: Int64 = 0
            if case .reserve(let request)? = outcome.command {
                reserving = request.lines.filter { $0.sku == sku }.reduce(0) { $0 + $1.quantity }
            }
            available[sku] = try backend.available(sku: sku) - reserving
        }
        outcome.backorder = .queue(
            Backorder(
                order: id, step: step.id, priority: outcome.order.priority ?? 1, sinceMs: previous?.sinceMs ?? log.atMs,
                shortages: shortages, availableWhenTried: available, onShortage: policy))
        outcome.events = outcome.order.fill == nil ? [BusinessEvent.orderBackordered] : []
        log.add(
            .action, "order:\(id)",
            "backordered: " + shortages.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key) short" }.joined(separator: ", ")
                + (firstTime ? "" : " (still)"))
    }

    /// A line's event: which line, its SKU, and the units it concerns.
    private static func lineEvent(_ name: String, _ line: OrderRecord.LineRecord, units: Int64) -> (name: String, fields: [String: String]) {
        (name, ["line": line.id, "sku": line.sku, "quantity": "\(units)"])
    }

    private func createFulfillmentOrders(_ outcome: inout StepOutcome, log: inout TimelineLog) throws(FulcrumError) {
        let id = outcome.order.id
        var byNode: [String: [OrderRecord.FulfillmentOrder.Line]] = [:]
        // Units an earlier shipment group's fulfillment orders carry are not sent twice.
        var sent: [String: Int64] = [:]
        for fulfillmentOrder in outcome.order.fulfillmentOrders where fulfillmentOrder.state != FulfillmentOrderStates.cancelled {
            for line in fulfillmentOrder.lines { sent[line.line + "\u{1}" + fulfillmentOrder.node, default: 0] += line.quantity }
        }
        for index in outcome.order.lines.indices {
            let line = outcome.order.lines[index]
            for (node, quantity) in line.allocations {
                let left = quantity - (sent[line.id + "\u{1}" + node] ?? 0)
                if left > 0 { byNode[node, default: []].append(.init(line: line.id, sku: line.sku, quantity: left)) }
            }
            // A line with units still waiting for stock stays backordered.
            if line.state == LineStates.reserved {
                try move(.orderLine, "\(id)/\(line.id)", &outcome.order.lines[index].state, to: LineStates.released, log: &log)
            }
        }
        let first = outcome.order.fulfillmentOrders.count + 1
        for (offset, node) in byNode.keys.sorted().enumerated() {
            let fulfillmentOrder = OrderRecord.FulfillmentOrder(
                id: "\(id)/FO-\(first + offset)", node: node, lines: byNode[node]!, state: FulfillmentOrderStates.created)
            outcome.order.fulfillmentOrders.append(fulfillmentOrder)
            log.add(.transition, "fulfillment_order:\(fulfillmentOrder.id)", "created at \(node): \(fulfillmentOrder.lines.map { "\($0.quantity) \($0.sku)" }.joined(separator: ", "))")
        }
    }

    private func send(
        to provider: String, kind: ProviderMessageKind, step: Step, slot: UInt16, queued: QueuedEvent,
        outcome: inout StepOutcome, log: inout TimelineLog
    ) throws(FulcrumError) -> Bool {
        let order = outcome.order
        var messages: [OutboxMessage] = []
        let replayed = ReplayedMessage(queued.event.fields)
        func message(topic: String, fulfillmentOrder: String?, body: String) -> OutboxMessage {
            let id = replayed?.id(provider: provider, topic: topic, fulfillmentOrder: fulfillmentOrder)
                ?? RecordKeys.messageID(sequence: queued.sequence, slot: slot, index: messages.count)
            return OutboxMessage(
                id: id, provider: provider,
                topic: topic, order: order.id, step: step.id, fulfillmentOrder: fulfillmentOrder, body: body,
                createdMs: log.atMs)
        }
        switch kind {
        case .fulfillmentOrders:
            for fulfillmentOrder in order.fulfillmentOrders where fulfillmentOrder.state == FulfillmentOrderStates.created {
                let body = FulfillmentOrderMessage(
                    order: order.id, fulfillmentOrder: fulfillmentOrder, shipTo: order.shipTo,
                    shippingMethod: order.shippingMethod, curbside: order.curbside)
                messages.append(message(topic: "fulfillment_order.created", fulfillmentOrder: fulfillmentOrder.id, body: body.json))
            }
        case .order:
            messages.append(message(topic: "order.\(order.state)", fulfillmentOrder: nil, body: RecordCoding.text(order)))
        case .refund:
            let item = try refundable(queued.event, order: order)
            let body = JSON.orderedObject([
                ("order", .string(order.id)), ("return", .string(item.id)), ("state", .string(item.state)),
                ("node", item.node.map(JSON.string) ?? .null),
                (
                    "lines",
                    .array(item.received.map { line in
                        .orderedObject([
                            ("sku", .string(line.sku)), ("quantity", .integer(line.quantity)),
                            ("disposition", .string(line.disposition ?? "")),
                        ])
                    })
                ),
            ])
            messages.append(message(topic: "return.refund_requested", fulfillmentOrder: nil, body: body.rendered))
        }
        guard !messages.isEmpty else {
            log.add(.provider, "order:\(order.id)", "nothing to send to \(provider)")
            return false
        }
        outcome.outbox = messages
        outcome.order.waiting.removeAll { $0.step == step.id }
        outcome.order.waiting.append(OrderRecord.Waiting(step: step.id, messages: messages.map(\.id), fields: queued.event.fields))
        for message in messages {
            log.add(.provider, message.fulfillmentOrder.map { "fulfillment_order:\($0)" } ?? "order:\(order.id)", "\(message.topic) queued for \(provider) (message \(message.id))")
        }
        return true
    }

    /// Why `event` does not fit `order` for `action`, when it does not: a
    /// shipment of a fulfillment order the order does not have or that is
    /// already shipped or cancelled, a return of more units than shipped and
    /// not yet returned, a return id used before, a cancellation the order's
    /// state does not allow (it shipped). Such events are rejected on the
    /// timeline instead of failing a journey that may be complete.
    func misfit(_ event: BusinessEvent, for action: StepAction, order: OrderRecord) -> FulcrumError? {
        switch action {
        case .confirmShipment, .recordPickup:
            guard let reference = event.fields["fulfillment_order"] else { return nil }
            guard let fulfillmentOrder = order.fulfillmentOrders.first(where: { $0.id == reference }) else {
                return FulcrumError(.unknownReference, "order \(order.id) has no fulfillment order \(reference)", path: "fields.fulfillment_order")
            }
            let done = [FulfillmentOrderStates.shipped, FulfillmentOrderStates.cancelled, FulfillmentOrderStates.pickedUp]
            guard !done.contains(fulfillmentOrder.state) else {
                return FulcrumError(
                    .transitionNotAllowed, "fulfillment order \(reference) is \(fulfillmentOrder.state) already", path: "fields.fulfillment_order")
            }
            return nil
        case .optimizeReturnLocation:
            guard let returnID = event.fields["return"], let lines = event.returnLines else { return nil }
            if order.returns.contains(where: { $0.id == "\(order.id)/\(returnID)" }) {
                return FulcrumError(.duplicateID, "return \(order.id)/\(returnID) exists", path: "fields.return")
            }
            for (index, line) in lines.enumerated() {
                let left = Self.returnable(line.sku, in: order)
                guard line.quantity <= left.shipped - left.returned else {
                    return FulcrumError(
                        .invalidArgument, "\(line.quantity) \(line.sku) cannot come back: \(left.shipped) shipped, \(left.returned) returned",
                        path: "return_lines[\(index)].quantity")
                }
            }
            return nil
        case .restockReturn:
            guard let returnID = event.fields["return"] else { return nil }
            let reference = "\(order.id)/\(returnID)"
            if let existing = order.returns.first(where: { $0.id == reference }),
                ![ReturnStates.requested, ReturnStates.located].contains(existing.state)
            {
                return FulcrumError(.transitionNotAllowed, "return \(reference) is \(existing.state) already", path: "fields.return")
            }
            do {
                _ = try receivedLines(event, reference: reference, order: order)
                return nil
            } catch {
                return error
            }
        case .sendToProvider(_, .refund):
            do {
                _ = try refundable(event, order: order)
                return nil
            } catch {
                return error
            }
        case .cancelAndRelease:
            do throws(FulcrumError) {
                try book.states.check(.order, order.id, from: order.state, to: OrderStates.cancelled)
                if order.state == OrderStates.partiallyShipped,
                    order.fulfillmentOrders.contains(where: { $0.state != FulfillmentOrderStates.shipped && $0.state != FulfillmentOrderStates.cancelled })
                {
                    // Its stock is out at the nodes: only what still waits for stock can be cancelled.
                    throw FulcrumError(
                        .transitionNotAllowed, "order \(order.id) has fulfillment orders out: cancel the rest once they ship",
                        path: "order:\(order.id)")
                }
                return nil
            } catch {
                return error
            }
        default:
            return nil
        }
    }

    /// The return an event names (`fields.return`) once restocked or disposed of: what a refund is for.
    private func refundable(_ event: BusinessEvent, order: OrderRecord) throws(FulcrumError) -> OrderRecord.Return {
        guard let returnID = event.fields["return"] else {
            throw FulcrumError(.invalidArgument, "a refund names its return (fields.return)", path: "fields.return")
        }
        let reference = "\(order.id)/\(returnID)"
        guard let item = order.returns.first(where: { $0.id == reference }) else {
            throw FulcrumError(.unknownReference, "order \(order.id) has no return \(reference)", path: "fields.return")
        }
        guard [ReturnStates.restocked, ReturnStates.disposed].contains(item.state) else {
            throw FulcrumError(
                .transitionNotAllowed, "return \(reference) is \(item.state); a refund follows its inspection", path: "fields.return")
        }
        return item
    }

    /// A received return's lines, each with its disposition, within what
    /// was asked to come back (or, for a return not asked for, within what
    /// shipped and is not coming back yet).
    private func receivedLines(_ event: BusinessEvent, reference: String, order: OrderRecord) throws(FulcrumError)
        -> [ReturnToStockRequest.Line]
    {
        guard let lines = event.returnLines, !lines.isEmpty else {
            throw FulcrumError(.invalidArgument, "a received return lists its lines with their dispositions", path: "return_lines")
        }
        let existing = order.returns.first { $0.id == reference }
        var received: [String: Int64] = [:]
        var parsed: [ReturnToStockRequest.Line] = []
        for (index, line) in lines.enumerated() {
            guard let name = line.disposition, let disposition = Disposition(name: name) else {
                throw FulcrumError(
                    .invalidArgument, "'\(line.disposition ?? "")' is not a disposition (restock, refurbish, dispose)",
                    path: "return_lines[\(index)].disposition")
            }
            received[line.sku, default: 0] += line.quantity
            let limit: Int64
            if let existing {
                limit = existing.lines.filter { $0.sku == line.sku }.reduce(0) { $0 + $1.quantity }
            } else {
                let left = Self.returnable(line.sku, in: order)
                limit = left.shipped - left.returned
            }
            guard received[line.sku]! <= limit else {
                throw FulcrumError(
                    .invalidArgument, "\(received[line.sku]!) \(line.sku) received; \(limit) can come back with \(reference)",
                    path: "return_lines[\(index)].quantity")
            }
            parsed.append(.init(sku: line.sku, quantity: line.quantity, disposition: disposition))
        }
        return parsed
    }

    /// Units of `sku` the order shipped (its shipped fulfillment orders'), and those already coming back.
    static func returnable(_ sku: String, in order: OrderRecord) -> (shipped: Int64, returned: Int64) {
        let shipped = order.fulfillmentOrders.filter { $0.state == FulfillmentOrderStates.shipped }
            .flatMap(\.lines).filter { $0.sku == sku }.reduce(0) { $0 + $1.quantity }
        let returned = order.returns.flatMap(\.lines).filter { $0.sku == sku }.reduce(0) { $0 + $1.quantity }
        return (shipped, returned)
    }

    /// A return arrives at a node and is inspected: restocked units go on
    /// hand, refurbished ones are due back later, the rest is written off,
    /// all in one ledger command with the order's records. A return not
    /// asked for first (a walk-in at a store) is taken here too.
    private func restockReturn(_ event: BusinessEvent, outcome: inout StepOutcome, log: inout TimelineLog) throws(FulcrumError) {
        let id = outcome.order.id
        guard let returnID = event.fields["return"] else {
            throw FulcrumError(.invalidArgument, "a received return names its id (fields.return)", path: "fields.return")
        }
        let reference = "\(id)/\(returnID)"
        let lines = try receivedLines(event, reference: reference, order: outcome.order)
        var index = outcome.order.returns.firstIndex { $0.id == reference }
        if index == nil {
            outcome.order.returns.append(
                .init(id: reference, lines: lines.map { .init(sku: $0.sku, quantity: $0.quantity) }, state: ReturnStates.requested))
            index = outcome.order.returns.count - 1
            log.add(.transition, "return:\(reference)", "requested at the counter: " + lines.map { "\($0.quantity) \($0.sku)" }.joined(separator: ", "))
        }
        var item = outcome.order.returns[index!]
        guard let node = event.fields["node"] ?? item.node else {
            throw FulcrumError(.invalidArgument, "the return was not located: name the node it arrived at (fields.node)", path: "fields.node")
        }
        let known = try backend.networkNodes().map(\.id)
        guard known.isEmpty || known.contains(node) else {
            throw FulcrumError(.unknownReference, "\(node) is not a node of the network", path: "fields.node")
        }
        var refurbishDue = Timestamp(millisecondsSinceEpoch: log.atMs).adding(seconds: Limits.refurbishSecondsDefault)
        if let text = event.fields["refurbish_due_ms"] {
            guard let milliseconds = Int64(text) else {
                throw FulcrumError(.invalidArgument, "'\(text)' is not epoch milliseconds", path: "fields.refurbish_due_ms")
            }
            refurbishDue = Timestamp(millisecondsSinceEpoch: milliseconds)
        }
        try move(.returnOrder, reference, &item.state, to: ReturnStates.received, log: &log)
        try move(.returnOrder, reference, &item.state, to: ReturnStates.inspected, log: &log)
        let kept = lines.contains { $0.disposition != .dispose }
        try move(.returnOrder, reference, &item.state, to: kept ? ReturnStates.restocked : ReturnStates.disposed, log: &log)
        item.node = node
        item.received = lines.map { .init(sku: $0.sku, quantity: $0.quantity, disposition: $0.disposition.description) }
        outcome.order.returns[index!] = item
        log.add(.action, "return:\(reference)", "received at \(node): " + lines.map { "\($0.disposition) \($0.quantity) \($0.sku)" }.joined(separator: ", "))
        outcome.command = .returnToStock(ReturnToStockRequest(returnID: reference, node: node, lines: lines, refurbishDue: refurbishDue))
    }

    private func confirmShipment(_ event: BusinessEvent, outcome: inout StepOutcome, log: inout TimelineLog) throws(FulcrumError) {
        let id = outcome.order.id
        guard let reference = event.fields["fulfillment_order"] else {
            throw FulcrumError(.invalidArgument, "the event names no fulfillment_order", path: "fields.fulfillment_order")
        }
        guard let index = outcome.order.fulfillmentOrders.firstIndex(where: { $0.id == reference }) else {
            throw FulcrumError(.notFound, "order \(id) has no fulfillment order \(reference)", path: "fields.fulfillment_order")
        }
        // Checked even when already shipped: a second confirmation is an error, not a no-op.
        try book.states.check(.fulfillmentOrder, reference, from: outcome.order.fulfillmentOrders[index].state, to: FulfillmentOrderStates.shipped)
        try move(.fulfillmentOrder, reference, &outcome.order.fulfillmentOrders[index].state, to: FulfillmentOrderStates.shipped, log: &log)
        outcome.order.fulfillmentOrders[index].tracking = event.fields["tracking"]
        let open = outcome.order.fulfillmentOrders.filter {
            $0.state != FulfillmentOrderStates.shipped && $0.state != FulfillmentOrderStates.cancelled
        }
        guard open.isEmpty else {
            try move(.order, id, &outcome.order.state, to: OrderStates.partiallyShipped, log: &log)
            return
        }
        // Every fulfillment order so far shipped: the reservation ships. Lines
        // all of whose units left are shipped; a line with units still waiting
        // for stock (shipped in groups) keeps the order partially shipped.
        var shipped: [String: Int64] = [:]
        for fulfillmentOrder in outcome.order.fulfillmentOrders where fulfillmentOrder.state == FulfillmentOrderStates.shipped {
            for line in fulfillmentOrder.lines { shipped[line.line, default: 0] += line.quantity }
        }
        var complete = true
        for index in outcome.order.lines.indices {
            let line = outcome.order.lines[index]
            guard line.state != LineStates.cancelled else { continue }
            guard shipped[line.id, default: 0] >= line.quantity else {
                complete = false
                continue
            }
            try move(.orderLine, "\(id)/\(line.id)", &outcome.order.lines[index].state, to: LineStates.shipped, log: &log)
        }
        try move(.order, id, &outcome.order.state, to: complete ? OrderStates.shipped : OrderStates.partiallyShipped, log: &log)
        outcome.command = .ship(order: outcome.order.reservation)
    }

    /// A pickup order at its store: each fulfillment order ready, then
    /// collected; the order follows when all of them have, and collection
    /// ships the reservation (the stock leaves with the customer).
    private func recordPickup(_ event: BusinessEvent, outcome: inout StepOutcome, log: inout TimelineLog) throws(FulcrumError) {
        let id = outcome.order.id
        guard outcome.order.pickupNode != nil else {
            throw FulcrumError(.invalidArgument, "order \(id) is not a pickup order (no pickup_node)", path: "order")
        }
        guard let reference = event.fields["fulfillment_order"] else {
            throw FulcrumError(.invalidArgument, "the event names no fulfillment_order", path: "fields.fulfillment_order")
        }
        guard let index = outcome.order.fulfillmentOrders.firstIndex(where: { $0.id == reference }) else {
            throw FulcrumError(.notFound, "order \(id) has no fulfillment order \(reference)", path: "fields.fulfillment_order")
        }
        let collected = event.name == "fulfillment_order.picked_up"
        let target = collected ? FulfillmentOrderStates.pickedUp : FulfillmentOrderStates.readyForPickup
        try move(.fulfillmentOrder, reference, &outcome.order.fulfillmentOrders[index].state, to: target, log: &log)
        let open = outcome.order.fulfillmentOrders.filter { $0.state != FulfillmentOrderStates.cancelled }
        guard open.allSatisfy({ $0.state == target }) else { return }
        guard collected else {
            try move(.order, id, &outcome.order.state, to: OrderStates.readyForPickup, log: &log)
            return
        }
        try move(.order, id, &outcome.order.state, to: OrderStates.pickedUp, log: &log)
        for index in outcome.order.lines.indices {
            try move(.orderLine, "\(id)/\(outcome.order.lines[index].id)", &outcome.order.lines[index].state, to: LineStates.pickedUp, log: &log)
        }
        outcome.command = .ship(order: outcome.order.reservation)
    }

    private func locateReturn(_ event: BusinessEvent, outcome: inout StepOutcome, log: inout TimelineLog) throws(FulcrumError) {
        let id = outcome.order.id
        guard let returnID = event.fields["return"], let lines = event.returnLines else {
            throw FulcrumError(.invalidArgument, "a return names its id (fields.return) and its lines", path: "fields.return")
        }
        let reference = "\(id)/\(returnID)"
        guard !outcome.order.returns.contains(where: { $0.id == reference }) else {
            throw FulcrumError(.duplicateID, "return \(reference) exists", path: "fields.return")
        }
        // `misfit` rejected returns that exceed what shipped before the step ran.
        assert(lines.allSatisfy { line in
            let left = Self.returnable(line.sku, in: outcome.order)
            return line.quantity <= left.shipped - left.returned
        })
        var state = ReturnStates.requested
        let from = Location(
            latitude: Double(event.fields["latitude"] ?? "") ?? outcome.order.shipTo.latitude ?? 0,
            longitude: Double(event.fields["longitude"] ?? "") ?? outcome.order.shipTo.longitude ?? 0)
        let request = ReturnRequest(
            id: returnID, order: id, from: from,
            lines: lines.enumerated().map { Line(id: "\($0.offset + 1)", sku: $0.element.sku, quantity: Int(clamping: $0.element.quantity)) },
            nodes: try backend.networkNodes().map {
                ReturnRequest.Node(id: $0.id, kind: $0.kind, location: $0.location, enabled: $0.enabled)
            })
        try request.validate()
        guard let choice = ReturnOptimizer.choose(request).choice else {
            throw FulcrumError(.unknownReference, "no node of the network takes this return", path: "fields.return")
        }
        log.add(.transition, "return:\(reference)", "requested: " + lines.map { "\($0.quantity) \($0.sku)" }.joined(separator: ", "))
        try move(.returnOrder, reference, &state, to: ReturnStates.located, log: &log)
        log.add(.action, "return:\(reference)", "goes back to \(choice.node), \(Int(choice.distanceKilometers)) km, cost \((choice.cost * 100).rounded() / 100)")
        outcome.order.returns.append(.init(id: reference, lines: lines, state: state, node: choice.node))
    }
}

/// The body of a `fulfillment_order.created` message.
struct FulfillmentOrderMessage: Codable {
    var order: String
    var fulfillmentOrder: OrderRecord.FulfillmentOrder
    var shipTo: Address
    var shippingMethod: String?
    /// True for a curbside pickup: the store brings it out to the car.
    var curbside: Bool?

    /// The body as JSON, rendered directly (one is made per fulfillment
    /// order on the journeys' hot path): the same document as `RecordCoding.text`,
    /// keys sorted, absent values left out.
    var json: String {
        func optional(_ pairs: [(String, JSON?)]) -> [(String, JSON)] { pairs.compactMap { key, value in value.map { (key, $0) } } }
        let lines = fulfillmentOrder.lines.map { line in
            JSON.orderedObject([("line", .string(line.line)), ("quantity", .integer(line.quantity)), ("sku", .string(line.sku))])
        }
        let fulfillment = JSON.orderedObject(
            [("id", .string(fulfillmentOrder.id)), ("lines", .array(lines)), ("node", .string(fulfillmentOrder.node)),
             ("state", .string(fulfillmentOrder.state))]
                + optional([("tracking", fulfillmentOrder.tracking.map(JSON.string))]))
        let address = JSON.orderedObject(
            optional([
                ("city", shipTo.city.map(JSON.string)), ("country", shipTo.country.map(JSON.string)),
                ("latitude", shipTo.latitude.map(JSON.number)), ("longitude", shipTo.longitude.map(JSON.number)),
                ("postal_code", shipTo.postalCode.map(JSON.string)), ("region", shipTo.region.map(JSON.string)),
            ]))
        return JSON.orderedObject(
            optional([("curbside", curbside.map(JSON.bool))])
                + [("fulfillment_order", fulfillment), ("order", .string(order)), ("ship_to", address)]
                + optional([("shipping_method", shippingMethod.map(JSON.string))])
        ).rendered
    }
}
