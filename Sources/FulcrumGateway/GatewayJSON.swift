import Foundation
import FulcrumCore
import FulcrumHTTP
import FulcrumService

/// The gateway's JSON bodies: snake_case field names, the same shapes the
/// CLI prints with `--json`. Requests decode with `invalid_json` errors at
/// the field's path; responses encode with sorted keys.
enum GatewayJSON {
    static func encode(_ value: some Encodable) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        // These values hold finite numbers and strings only: encoding cannot fail.
        return try! encoder.encode(value)
    }

    struct LineBody: Decodable {
        var node: String
        var sku: String
        var quantity: Int64
        var receipt: String?
        enum CodingKeys: String, CodingKey, CaseIterable { case node, sku, quantity, receipt }
        init(from decoder: any Decoder) throws {
            try decoder.refuseUnknownFields(CodingKeys.self)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            node = try c.decode(String.self, forKey: .node)
            sku = try c.decode(String.self, forKey: .sku)
            quantity = try c.decodeInteger(forKey: .quantity)
            receipt = try c.decodeIfPresent(String.self, forKey: .receipt)
        }
    }

    static func availability(_ availability: Availability) -> JSON {
        .orderedObject([
            ("sku", .string(availability.sku)), ("available", .integer(availability.available)),
            (
                "nodes",
                .array(
                    availability.nodes.map { node in
                        var fields: [(String, JSON)] = [("node", .string(node.node)), ("available", .integer(node.available))]
                        if let distance = node.distanceKilometers { fields.append(("distance_km", .number(distance))) }
                        return .orderedObject(fields)
                    })
            ),
        ])
    }

    static func error(_ error: FulcrumError) -> JSON {
        HTTPErrors.body(error)
    }

    // MARK: Requests (each refuses fields it does not have)

    struct AvailabilityQueryBody: Decodable {
        var sku: String
        var node: String?
        /// Unix epoch milliseconds: count receipts due by then.
        var onMs: Int64?
        var near: NearBody?

        struct NearBody: Decodable {
            var latitude: Double
            var longitude: Double
            enum CodingKeys: String, CodingKey, CaseIterable { case latitude, longitude }
            init(from decoder: any Decoder) throws {
                try decoder.refuseUnknownFields(CodingKeys.self)
                let c = try decoder.container(keyedBy: CodingKeys.self)
                latitude = try c.decode(Double.self, forKey: .latitude)
                longitude = try c.decode(Double.self, forKey: .longitude)
            }
        }

        enum CodingKeys: String, CodingKey, CaseIterable { case sku, node, onMs = "on_ms", near }

        init(from decoder: any Decoder) throws {
            try decoder.refuseUnknownFields(CodingKeys.self)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            sku = try c.decode(String.self, forKey: .sku)
            node = try c.decodeIfPresent(String.self, forKey: .node)
            onMs = try c.decodeIntegerIfPresent(forKey: .onMs)
            near = try c.decodeIfPresent(NearBody.self, forKey: .near)
        }

        var query: AvailabilityQuery {
            AvailabilityQuery(
                sku: sku, node: node, on: onMs.map(Timestamp.init(millisecondsSinceEpoch:)),
                near: near.map { .init(latitude: $0.latitude, longitude: $0.longitude) })
        }
    }

    struct AvailabilityBatchBody: Decodable {
        var queries: [AvailabilityQueryBody]
        enum CodingKeys: String, CodingKey, CaseIterable { case queries }
        init(from decoder: any Decoder) throws {
            try decoder.refuseUnknownFields(CodingKeys.self)
            queries = try decoder.container(keyedBy: CodingKeys.self).decode([AvailabilityQueryBody].self, forKey: .queries)
        }
    }

    struct AdjustBody: Decodable {
        var node: String
        var sku: String
        var set: Int64?
        var delta: Int64?
        var reason: String?
        var source: String?
        var sourceReference: String?
        var asOfMs: Int64?
        var idempotencyKey: String?
        enum CodingKeys: String, CodingKey, CaseIterable {
            case node, sku, set, delta, reason, source, sourceReference = "source_reference", asOfMs = "as_of_ms"
            case idempotencyKey = "idempotency_key"
        }
        init(from decoder: any Decoder) throws {
            try decoder.refuseUnknownFields(CodingKeys.self)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            node = try c.decode(String.self, forKey: .node)
            sku = try c.decode(String.self, forKey: .sku)
            set = try c.decodeIntegerIfPresent(forKey: .set)
            delta = try c.decodeIntegerIfPresent(forKey: .delta)
            reason = try c.decodeIfPresent(String.self, forKey: .reason)
            source = try c.decodeIfPresent(String.self, forKey: .source)
            sourceReference = try c.decodeIfPresent(String.self, forKey: .sourceReference)
            asOfMs = try c.decodeIntegerIfPresent(forKey: .asOfMs)
            idempotencyKey = try c.decodeIfPresent(String.self, forKey: .idempotencyKey)
        }
    }

    /// `POST /v1/receipts`: a purchase order or other receipt due at a node.
    struct ScheduleBody: Decodable {
        var receipt: ScheduledReceipt
        var idempotencyKey: String?
        enum CodingKeys: String, CodingKey, CaseIterable {
            case receipt, node, sku, quantity, dueMs = "due_ms", idempotencyKey = "idempotency_key"
        }
        init(from decoder: any Decoder) throws {
            try decoder.refuseUnknownFields(CodingKeys.self)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            receipt = ScheduledReceipt(
                receipt: try c.decode(String.self, forKey: .receipt), node: try c.decode(String.self, forKey: .node),
                sku: try c.decode(String.self, forKey: .sku), quantity: try c.decodeInteger(forKey: .quantity),
                due: Timestamp(millisecondsSinceEpoch: try c.decodeInteger(forKey: .dueMs)))
            idempotencyKey = try c.decodeIfPresent(String.self, forKey: .idempotencyKey)
        }
    }

    /// `POST /v1/receipts/{receipt}/receive`: all that was scheduled unless `quantity` says otherwise.
    struct ReceiveBody: Decodable {
        var quantity: Int64?
        var idempotencyKey: String?
        enum CodingKeys: String, CodingKey, CaseIterable { case quantity, idempotencyKey = "idempotency_key" }
        init(from decoder: any Decoder) throws {
            try decoder.refuseUnknownFields(CodingKeys.self)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            quantity = try c.decodeIntegerIfPresent(forKey: .quantity)
            idempotencyKey = try c.decodeIfPresent(String.self, forKey: .idempotencyKey)
        }
    }

    /// `POST /v1/receipts/{receipt}/reschedule`.
    struct RescheduleBody: Decodable {
        var due: Timestamp
        var idempotencyKey: String?
        enum CodingKeys: String, CodingKey, CaseIterable { case dueMs = "due_ms", idempotencyKey = "idempotency_key" }
        init(from decoder: any Decoder) throws {
            try decoder.refuseUnknownFields(CodingKeys.self)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            due = Timestamp(millisecondsSinceEpoch: try c.decodeInteger(forKey: .dueMs))
            idempotencyKey = try c.decodeIfPresent(String.self, forKey: .idempotencyKey)
        }
    }

    /// `POST /v1/transfers`.
    struct TransferBody: Decodable {
        var request: TransferRequest
        var idempotencyKey: String?
        enum CodingKeys: String, CodingKey, CaseIterable {
            case transfer, fromNode = "from_node", toNode = "to_node", sku, quantity, dueMs = "due_ms"
            case idempotencyKey = "idempotency_key"
        }
        init(from decoder: any Decoder) throws {
            try decoder.refuseUnknownFields(CodingKeys.self)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            request = TransferRequest(
                transfer: try c.decode(String.self, forKey: .transfer), fromNode: try c.decode(String.self, forKey: .fromNode),
                toNode: try c.decode(String.self, forKey: .toNode), sku: try c.decode(String.self, forKey: .sku),
                quantity: try c.decodeInteger(forKey: .quantity),
                due: Timestamp(millisecondsSinceEpoch: try c.decodeInteger(forKey: .dueMs)))
            idempotencyKey = try c.decodeIfPresent(String.self, forKey: .idempotencyKey)
        }
    }

    /// `POST /v1/allocations`: a channel's allocation, set or (amount 0) removed.
    struct AllocateBody: Decodable {
        var allocation: Allocation
        var idempotencyKey: String?
        enum CodingKeys: String, CodingKey, CaseIterable {
            case sku, node, channel, quantity, shareBasisPoints = "share_basis_points", overflow, expiresMs = "expires_ms"
            case idempotencyKey = "idempotency_key"
        }
        init(from decoder: any Decoder) throws {
            try decoder.refuseUnknownFields(CodingKeys.self)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let amount: Allocation.Amount
            switch (try c.decodeIntegerIfPresent(forKey: .quantity), try c.decodeIntegerIfPresent(forKey: .shareBasisPoints)) {
            case (let units?, nil): amount = .quantity(units)
            case (nil, let points?): amount = .shareBasisPoints(points)
            default: throw FulcrumError(.invalidArgument, "exactly one of quantity and share_basis_points is required", path: "quantity")
            }
            allocation = Allocation(
                sku: try c.decode(String.self, forKey: .sku), node: try c.decode(String.self, forKey: .node),
                channel: try c.decode(String.self, forKey: .channel), amount: amount,
                overflow: try c.decodeIfPresent(Bool.self, forKey: .overflow) ?? true,
                expiresAt: try c.decodeIntegerIfPresent(forKey: .expiresMs).map(Timestamp.init(millisecondsSinceEpoch:)))
            idempotencyKey = try c.decodeIfPresent(String.self, forKey: .idempotencyKey)
        }
    }

    /// `POST /v1/reconcile`: a stock count against the ledger.
    struct ReconcileBody: Decodable {
        struct Count: Decodable {
            var count: StockCount
            enum CodingKeys: String, CodingKey, CaseIterable { case node, sku, quantity }
            init(from decoder: any Decoder) throws {
                try decoder.refuseUnknownFields(CodingKeys.self)
                let c = try decoder.container(keyedBy: CodingKeys.self)
                count = StockCount(
                    node: try c.decode(String.self, forKey: .node), sku: try c.decode(String.self, forKey: .sku),
                    quantity: try c.decodeInteger(forKey: .quantity))
            }
        }
        var counts: [Count]
        var asOfMs: Int64?
        var nodes: [String]?
        enum CodingKeys: String, CodingKey, CaseIterable { case counts, asOfMs = "as_of_ms", nodes }
        init(from decoder: any Decoder) throws {
            try decoder.refuseUnknownFields(CodingKeys.self)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            counts = try c.decode([Count].self, forKey: .counts)
            asOfMs = try c.decodeIntegerIfPresent(forKey: .asOfMs)
            nodes = try c.decodeIfPresent([String].self, forKey: .nodes)
        }
    }

    struct ReserveBody: Decodable {
        var order: String
        var lines: [LineBody]
        var ttlSeconds: Int64?
        var channel: String?
        var idempotencyKey: String?
        enum CodingKeys: String, CodingKey, CaseIterable {
            case order, lines, ttlSeconds = "ttl_seconds", channel, idempotencyKey = "idempotency_key"
        }
        init(from decoder: any Decoder) throws {
            try decoder.refuseUnknownFields(CodingKeys.self)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            order = try c.decode(String.self, forKey: .order)
            lines = try c.decode([LineBody].self, forKey: .lines)
            ttlSeconds = try c.decodeIntegerIfPresent(forKey: .ttlSeconds)
            channel = try c.decodeIfPresent(String.self, forKey: .channel)
            idempotencyKey = try c.decodeIfPresent(String.self, forKey: .idempotencyKey)
        }

        var request: ReserveRequest {
            ReserveRequest(
                order: order, lines: lines.map { ReservationLine(node: $0.node, sku: $0.sku, quantity: $0.quantity, receipt: $0.receipt ?? "") },
                ttlSeconds: ttlSeconds ?? ReserveRequest.defaultTTLSeconds, channel: channel ?? "")
        }
    }

    /// A business event (`POST /v1/events`), snake_case keys.
    struct EventBody: Decodable {
        var event: String
        var order: String
        var fields: [String: String]?
        var intake: OrderIntake?
        var returnLines: [OrderRecord.Return.Line]?
        var idempotencyKey: String?
        // Decoded with the snake_case key strategy: keys arrive in camelCase.
        enum CodingKeys: String, CodingKey, CaseIterable { case event, order, fields, intake, returnLines, idempotencyKey }
        init(from decoder: any Decoder) throws {
            try decoder.refuseUnknownFields(CodingKeys.self)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            event = try c.decode(String.self, forKey: .event)
            order = try c.decode(String.self, forKey: .order)
            fields = try c.decodeIfPresent([String: String].self, forKey: .fields)
            intake = try c.decodeIfPresent(OrderIntake.self, forKey: .intake)
            returnLines = try c.decodeIfPresent([OrderRecord.Return.Line].self, forKey: .returnLines)
            idempotencyKey = try c.decodeIfPresent(String.self, forKey: .idempotencyKey)
        }

        var businessEvent: BusinessEvent {
            BusinessEvent(name: event, order: order, fields: fields ?? [:], intake: intake, returnLines: returnLines, source: "http")
        }
    }

    struct TransitionBody: Decodable {
        var idempotencyKey: String?
        enum CodingKeys: String, CodingKey, CaseIterable { case idempotencyKey = "idempotency_key" }
        init(from decoder: any Decoder) throws {
            try decoder.refuseUnknownFields(CodingKeys.self)
            idempotencyKey = try decoder.container(keyedBy: CodingKeys.self).decodeIfPresent(
                String.self, forKey: .idempotencyKey)
        }
    }

    /// A solve as the operations page lists it.
    /// `PUT /v1/skus`: `{"skus": [{"id", "weight_kg", "category"}]}`, the optimize contract's SKUs.
    struct SkusBody: Decodable {
        var skus: [SKU]
        enum CodingKeys: String, CodingKey, CaseIterable { case skus }
        init(from decoder: any Decoder) throws {
            try decoder.refuseUnknownFields(CodingKeys.self)
            skus = try decoder.container(keyedBy: CodingKeys.self).decode([SKU].self, forKey: .skus)
        }
    }

    struct DecisionBody: Encodable {
        struct ShipmentBody: Encodable {
            var node: String
            var units: Int
            var distanceKm: Double
            var cost: Double
        }
        struct PlanBody: Encodable {
            var order: String
            var cost: Double
            var shipments: [ShipmentBody]
            var unitsBackordered: Int
        }
        var id: UInt64
        var atMs: Int64
        var strategy: String
        var status: String
        var objective: Double
        var solveMs: Double
        var nodes: Int
        var plans: [PlanBody]

        init(_ decision: SolverDecision) {
            id = decision.id
            atMs = decision.at.millisecondsSinceEpoch
            strategy = decision.strategy.rawValue
            status = decision.response.status.rawValue
            objective = decision.response.objective
            solveMs = decision.response.statistics.solveMilliseconds
            nodes = decision.request.nodes.count
            plans = decision.response.plans.map { plan in
                PlanBody(
                    order: plan.order, cost: plan.cost,
                    shipments: plan.shipments.map {
                        ShipmentBody(
                            node: $0.node, units: $0.lines.reduce(0) { $0 + $1.quantity }, distanceKm: $0.distanceKilometers,
                            cost: $0.cost)
                    },
                    unitsBackordered: plan.backorders.reduce(0) { $0 + $1.quantity })
            }
        }
    }
}
