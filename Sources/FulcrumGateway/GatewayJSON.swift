import Foundation
import FulcrumCore
import FulcrumOrchestration
import FulcrumHTTP
import FulcrumLedger
import FulcrumService
import FulcrumSolver

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

    /// A position as JSON (hand-rendered: the hot paths' answers skip Foundation's encoder).
    static func position(_ key: PositionKey, _ position: Position) -> JSON {
        .orderedObject([
            ("node", .string(key.node)), ("sku", .string(key.sku)), ("on_hand", .integer(position.onHand)),
            ("reserved", .integer(position.reserved)), ("committed", .integer(position.committed)),
            ("safety_stock", .integer(position.safetyStock)), ("available", .integer(position.available)),
        ])
    }

    struct LineBody: Codable {
        var node: String
        var sku: String
        var quantity: Int64
    }

    static func reservation(_ reservation: Reservation) -> JSON {
        .orderedObject([
            ("order", .string(reservation.order)), ("state", .string(reservation.state.description)),
            (
                "lines",
                .array(
                    reservation.lines.map {
                        .orderedObject([("node", .string($0.node)), ("sku", .string($0.sku)), ("quantity", .integer($0.quantity))])
                    })
            ),
            ("created_ms", .integer(reservation.createdAt.millisecondsSinceEpoch)),
            ("expires_ms", .integer(reservation.expiresAt.millisecondsSinceEpoch)),
            ("updated_ms", .integer(reservation.updatedAt.millisecondsSinceEpoch)),
        ])
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

    // MARK: Requests

    struct AvailabilityQueryBody: Decodable {
        var sku: String
        var node: String?
        /// Unix epoch milliseconds: count receipts due by then.
        var onMs: Int64?
        var near: NearBody?

        struct NearBody: Decodable {
            var lat: Double
            var lon: Double
        }

        enum CodingKeys: String, CodingKey { case sku, node, onMs = "on_ms", near }

        var query: AvailabilityQuery {
            AvailabilityQuery(
                sku: sku, node: node, on: onMs.map(Timestamp.init(millisecondsSinceEpoch:)),
                near: near.map { .init(latitude: $0.lat, longitude: $0.lon) })
        }
    }

    struct AvailabilityBatchBody: Decodable {
        var queries: [AvailabilityQueryBody]
    }

    struct AdjustBody: Decodable {
        var node: String
        var sku: String
        var set: Int64?
        var delta: Int64?
        var reason: String?
        var idempotencyKey: String?
        enum CodingKeys: String, CodingKey { case node, sku, set, delta, reason, idempotencyKey = "idempotency_key" }
    }

    struct ReserveBody: Decodable {
        var order: String
        var lines: [LineBody]
        var ttlSeconds: Int64?
        var idempotencyKey: String?
        enum CodingKeys: String, CodingKey { case order, lines, ttlSeconds = "ttl_seconds", idempotencyKey = "idempotency_key" }

        var request: ReserveRequest {
            ReserveRequest(
                order: order, lines: lines.map { ReservationLine(node: $0.node, sku: $0.sku, quantity: $0.quantity) },
                ttlSeconds: ttlSeconds ?? ReserveRequest.defaultTTLSeconds)
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

        var businessEvent: BusinessEvent {
            BusinessEvent(name: event, order: order, fields: fields ?? [:], intake: intake, returnLines: returnLines, source: "http")
        }
    }

    struct TransitionBody: Decodable {
        var idempotencyKey: String?
        enum CodingKeys: String, CodingKey { case idempotencyKey = "idempotency_key" }
    }

    /// A solve as the operations page lists it.
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
