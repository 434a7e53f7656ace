import Foundation
import FulcrumCore
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

    struct PositionBody: Encodable {
        var node: String
        var sku: String
        var onHand: Int64
        var reserved: Int64
        var committed: Int64
        var safetyStock: Int64
        var available: Int64

        init(_ key: PositionKey, _ position: Position) {
            node = key.node
            sku = key.sku
            onHand = position.onHand
            reserved = position.reserved
            committed = position.committed
            safetyStock = position.safetyStock
            available = position.available
        }
    }

    struct LineBody: Codable {
        var node: String
        var sku: String
        var quantity: Int64
    }

    struct ReservationBody: Encodable {
        var order: String
        var state: String
        var lines: [LineBody]
        var createdMs: Int64
        var expiresMs: Int64
        var updatedMs: Int64

        init(_ reservation: Reservation) {
            order = reservation.order
            state = reservation.state.description
            lines = reservation.lines.map { LineBody(node: $0.node, sku: $0.sku, quantity: $0.quantity) }
            createdMs = reservation.createdAt.millisecondsSinceEpoch
            expiresMs = reservation.expiresAt.millisecondsSinceEpoch
            updatedMs = reservation.updatedAt.millisecondsSinceEpoch
        }
    }

    struct AvailabilityBody: Encodable {
        struct NodeBody: Encodable {
            var node: String
            var available: Int64
            var distanceKm: Double?
        }
        var sku: String
        var available: Int64
        var nodes: [NodeBody]

        init(_ availability: Availability) {
            sku = availability.sku
            available = availability.available
            nodes = availability.nodes.map { NodeBody(node: $0.node, available: $0.available, distanceKm: $0.distanceKilometers) }
        }
    }

    struct ErrorBody: Encodable {
        struct Detail: Encodable {
            var code: String
            var message: String
            var path: String
        }
        var error: Detail
        init(_ error: FulcrumError) { self.error = Detail(code: error.code.rawValue, message: error.message, path: error.path) }
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
