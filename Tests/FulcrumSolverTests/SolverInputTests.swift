import Foundation
import FulcrumCore
import FulcrumSolver
import Testing

@Suite struct SolverInputTests {
    static let valid = """
        {"orders":[{"id":"o1","ship_to":{"latitude":40.7,"longitude":-74.0},"pickup_node":"A",
                    "lines":[{"id":"l1","sku":"X","quantity":2}]}],
         "nodes":[{"id":"A","latitude":40.0,"longitude":-74.5},{"id":"B","latitude":34.0,"longitude":-118.0}],
         "skus":[{"id":"X"}],
         "inventory":[{"node":"A","sku":"X","available":3}]}
        """

    /// Applies `edit` to the valid request's JSON object and decodes it.
    static func decode(_ edit: (inout [String: Any]) -> Void) throws(FulcrumError) -> OptimizeRequest {
        var object = try! JSONSerialization.jsonObject(with: Data(valid.utf8)) as! [String: Any]
        edit(&object)
        return try OptimizeRequest.decode(json: try! JSONSerialization.data(withJSONObject: object))
    }

    static func order(_ object: inout [String: Any], _ edit: (inout [String: Any]) -> Void) {
        var orders = object["orders"] as! [[String: Any]]
        edit(&orders[0])
        object["orders"] = orders
    }

    static func line(_ object: inout [String: Any], _ edit: (inout [String: Any]) -> Void) {
        order(&object) { order in
            var lines = order["lines"] as! [[String: Any]]
            edit(&lines[0])
            order["lines"] = lines
        }
    }

    static func node(_ object: inout [String: Any], _ edit: (inout [String: Any]) -> Void) {
        var nodes = object["nodes"] as! [[String: Any]]
        edit(&nodes[1])
        object["nodes"] = nodes
    }

    nonisolated(unsafe) static let cases: [(String, FulcrumError.Code, String, @Sendable (inout [String: Any]) -> Void)] = [
        ("unknown pickup node", .unknownReference, "orders[0].pickup_node", { order(&$0) { $0["pickup_node"] = "Z" } }),
        ("inventory names an unknown node", .unknownReference, "inventory[0].node", { $0["inventory"] = [["node": "Z", "sku": "X", "available": 1]] }),
        ("exclusion names an unknown node", .unknownReference, "rules.exclude[0].node", { $0["rules"] = ["exclude": [["node": "Z"]]] }),
        ("negative quantity", .invalidArgument, "orders[0].lines[0].quantity", { line(&$0) { $0["quantity"] = -2 } }),
        ("zero quantity", .invalidArgument, "orders[0].lines[0].quantity", { line(&$0) { $0["quantity"] = 0 } }),
        ("fractional quantity", .invalidJSON, "orders[0].lines[0].quantity", { line(&$0) { $0["quantity"] = 1.5 } }),
        ("negative stock", .invalidArgument, "inventory[0].available", { $0["inventory"] = [["node": "A", "sku": "X", "available": -1]] }),
        ("duplicate order ids", .duplicateID, "orders[1].id", { $0["orders"] = [($0["orders"] as! [Any])[0], ($0["orders"] as! [Any])[0]] }),
        ("duplicate node ids", .duplicateID, "nodes[1].id", { node(&$0) { $0["id"] = "A" } }),
        ("duplicate line ids", .duplicateID, "orders[0].lines[1].id", { order(&$0) { $0["lines"] = [($0["lines"] as! [Any])[0], ($0["lines"] as! [Any])[0]] } }),
        ("duplicate sku ids", .duplicateID, "skus[1].id", { $0["skus"] = [["id": "X"], ["id": "X"]] }),
        ("duplicate inventory rows", .duplicateID, "inventory[1]", { $0["inventory"] = [["node": "A", "sku": "X", "available": 1], ["node": "A", "sku": "X", "available": 2]] }),
        ("latitude out of range", .invalidArgument, "orders[0].ship_to.latitude", { order(&$0) { $0["ship_to"] = ["latitude": 91.0, "longitude": 0.0] } }),
        ("longitude out of range", .invalidArgument, "nodes[1].longitude", { node(&$0) { $0["longitude"] = -181.0 } }),
        ("priority zero", .invalidArgument, "orders[0].priority", { order(&$0) { $0["priority"] = 0 } }),
        ("max shipments zero", .invalidArgument, "orders[0].max_shipments", { order(&$0) { $0["max_shipments"] = 0 } }),
        ("negative shipment cost", .invalidArgument, "nodes[1].cost_per_shipment", { node(&$0) { $0["cost_per_shipment"] = -1.0 } }),
        ("negative capacity", .invalidArgument, "nodes[1].capacity_units", { node(&$0) { $0["capacity_units"] = -1 } }),
        ("unknown node kind", .invalidJSON, "nodes[1].kind", { node(&$0) { $0["kind"] = "depot" } }),
        ("zero weight", .invalidArgument, "skus[0].weight_kg", { $0["skus"] = [["id": "X", "weight_kg": 0]] }),
        ("negative rate", .invalidArgument, "rates.per_km", { $0["rates"] = ["per_km": -0.1] }),
        ("negative safety stock", .invalidArgument, "rules.safety_stock", { $0["rules"] = ["safety_stock": -1] }),
        ("max shipments rule zero", .invalidArgument, "rules.max_shipments_per_order", { $0["rules"] = ["max_shipments_per_order": 0] }),
        ("no orders", .invalidArgument, "orders", { $0["orders"] = [] as [Any] }),
        ("an order without lines", .invalidArgument, "orders[0].lines", { order(&$0) { $0["lines"] = [] as [Any] } }),
        ("missing ship_to", .invalidJSON, "orders[0].ship_to", { order(&$0) { $0["ship_to"] = nil } }),
        ("a string for a number", .invalidJSON, "nodes[1].latitude", { node(&$0) { $0["latitude"] = "north" } }),
        ("an empty id", .invalidArgument, "orders[0].id", { order(&$0) { $0["id"] = "" } }),
        ("an exclusion with no field", .invalidArgument, "rules.exclude[0]", { $0["rules"] = ["exclude": [[:] as [String: Any]]] }),
        ("an exclusion with only an unknown field", .unknownField, "rules.exclude[0].nodes", { $0["rules"] = ["exclude": [["nodes": "A"]]] }),
        ("a version 1 name", .unknownField, "orders[0].lines[0].qty", { line(&$0) { $0["qty"] = 2 } }),
        ("a misspelt option", .unknownField, "orders[0].shipcomplete", { order(&$0) { $0["shipcomplete"] = true } }),
        ("an unknown rules field", .unknownField, "rules.exclusions", { $0["rules"] = ["exclusions": [] as [Any]] }),
        ("an unknown top-level field", .unknownField, "ttl_secs", { $0["ttl_secs"] = 5 }),
        ("version 1 coordinates", .unknownField, "nodes[1].lat", { node(&$0) { $0["lat"] = 34.0 } }),
        ("a profile that is no name", .invalidArgument, "profile", { $0["profile"] = "" }),
        ("an address without coordinates or a country", .invalidJSON, "orders[0].ship_to.latitude", { order(&$0) { $0["ship_to"] = ["postal_code": "10001"] } }),
    ]

    /// Version 1's names are refused with the version 2 name in the message.
    /// A ship-alone line is a shipment of its own, from the same node as
    /// the rest of its order, and pays its own shipment cost.
    @Test func aShipAloneLineShipsApart() throws {
        let request = OptimizeRequest(
            orders: [Order(id: "O", shipTo: Location(latitude: 40, longitude: -74), lines: [
                Line(id: "1", sku: "SOFA", quantity: 1), Line(id: "2", sku: "PILLOW", quantity: 2), Line(id: "3", sku: "LAMP", quantity: 1),
            ])],
            nodes: [Node(id: "DC", location: Location(latitude: 40.5, longitude: -74.4))],
            skus: [SKU(id: "SOFA", flags: [SKU.shipAloneFlag]), SKU(id: "LAMP", flags: ["fragile"])],
            inventory: [Stock(node: "DC", sku: "SOFA", available: 5), Stock(node: "DC", sku: "PILLOW", available: 5), Stock(node: "DC", sku: "LAMP", available: 5)],
            rates: Rates(perShipment: 7, perKilometer: 0, perKilogramKilometer: 0))
        let plan = try Optimizer.solve(request).plans[0]
        #expect(plan.shipments.map(\.node) == ["DC", "DC"])
        #expect(plan.shipments.map { $0.lines.map(\.line) } == [["1"], ["2", "3"]])
        #expect(plan.cost == 14)
        var limited = request
        limited.rules.maxShipmentsPerOrder = 1
        #expect(try Optimizer.solve(limited).plans[0].backorders.map(\.line) == ["1"], "the sofa's own shipment would be a second")
    }

    @Test func oldNamesNameTheNewOnes() {
        let expectations = [
            ("qty", "unknown field 'qty' (did you mean 'quantity'?)"),
            ("lat", "unknown field 'lat' (did you mean 'latitude'?)"),
        ]
        for (name, message) in expectations {
            do {
                _ = try Self.decode { object in
                    if name == "qty" { Self.line(&object) { $0["qty"] = 1 } } else { Self.order(&object) { $0["ship_to"] = ["lat": 1.0, "longitude": 2.0] } }
                }
                Issue.record("\(name) accepted")
            } catch {
                #expect(error.message == message)
            }
        }
    }

    /// An address's country, postal code and city are kept beside its coordinates.
    @Test func addressFieldsAreAccepted() throws {
        let request = try Self.decode { object in
            Self.order(&object) {
                $0["ship_to"] = ["latitude": 40.7, "longitude": -74.0, "country": "US", "postal_code": "10001", "city": "New York"]
            }
        }
        #expect(request.orders[0].shipTo == Location(latitude: 40.7, longitude: -74.0, country: "US", postalCode: "10001", city: "New York"))
        let again = try OptimizeRequest.decode(json: request.json())
        #expect(again == request)
    }

    @Test func eachBadRequestIsATypedErrorWithItsPath() {
        #expect(throws: Never.self) { _ = try Self.decode { _ in } }
        for (name, code, path, edit) in Self.cases {
            do {
                _ = try Self.decode(edit)
                Issue.record("\(name): accepted")
            } catch {
                #expect(error.code == code, "\(name): \(error)")
                #expect(error.path == path, "\(name): \(error)")
            }
        }
    }

    @Test(arguments: ["", "{", "[1,2]", "{\"orders\": NaN}", "{\"orders\":[{\"id\":\"o\",\"ship_to\":{\"latitude\":NaN,\"longitude\":0}}]}", "nul"])
    func malformedJSONIsInvalidJSON(_ text: String) {
        do {
            _ = try OptimizeRequest.decode(json: Data(text.utf8))
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.code == .invalidJSON)
        }
    }

    @Test func aRequestWithoutInventoryNeedsTheLedger() throws {
        let request = try Self.decode { $0["inventory"] = nil }
        do {
            _ = try Optimizer.solve(request)
            Issue.record("solved without stock")
        } catch {
            #expect(error.code == .invalidArgument && error.path == "inventory")
        }
        let supplied = try Optimizer.solve(request, availability: [Stock(node: "A", sku: "X", available: 5)])
        #expect(supplied.plans[0].backorders.isEmpty && supplied.plans[0].shipments.map(\.node) == ["A"])
    }

    @Test func defaultsOfTheSpecApply() throws {
        let request = try Self.decode { _ in }
        let order = request.orders[0]
        #expect(order.priority == 1 && !order.shipComplete && order.maxShipments == nil)
        #expect(request.nodes[1].kind == .warehouse && request.nodes[1].enabled && request.nodes[1].canShip)
        #expect(request.rates == Rates(perShipment: 5, perKilometer: 0, perKilogramKilometer: 0.0005))
        #expect(request.rules.backorderPenalty == 1000 && request.rules.exclude.isEmpty)
        #expect(request.skus[0].weightKilograms == 1)
    }

    /// A pickup order pays the node's costs only, and only its pickup node may fill it.
    @Test func pickupOrdersPayNoCarrier() throws {
        let response = try Optimizer.solve(try Self.decode { _ in })
        #expect(response.status == .optimal)
        #expect(response.plans[0].shipments.map(\.node) == ["A"])
        #expect(response.objective == 0)
    }
}
