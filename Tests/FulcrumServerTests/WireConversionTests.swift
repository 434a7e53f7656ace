import Foundation
import FulcrumCore
import FulcrumSolver
import FulcrumWire
import SwiftProtobuf
import Testing

/// The optimize contract and orders on the binary protocol: every value
/// survives domain → message → bytes → message → domain, and a message's
/// defaults are the JSON contract's.
struct WireConversionTests {
    /// Through the bytes, as a client and the server see it.
    private func overTheWire(_ request: OptimizeRequest) throws -> OptimizeRequest {
        let bytes: [UInt8] = try Fulcrum_V1_OptimizeProblem(request).serializedBytes()
        return try Fulcrum_V1_OptimizeProblem(serializedBytes: bytes).domain(defaultNodes: nil)
    }

    @Test func everyFieldOfARequestSurvives() throws {
        let request = OptimizeRequest(
            orders: [
                Order(
                    id: "O-1", priority: 2.5,
                    shipTo: Location(latitude: 42.36, longitude: -71.06, region: "MA", country: "US", postalCode: "02108", city: "Boston"),
                    shipComplete: true, maxShipments: 2, pickupNode: "STORE-1",
                    lines: [Line(id: "1", sku: "A", quantity: 3, noSplit: true), Line(id: "2", sku: "B", quantity: 1)]),
                Order(id: "O-2", shipTo: Location(latitude: 0, longitude: 0), lines: [Line(id: "1", sku: "A", quantity: 1)]),
                Order(id: "O-3", shipTo: .unplaced(country: "US", postalCode: "10001"), lines: [Line(id: "1", sku: "B", quantity: 1)]),
            ],
            nodes: [
                Node(id: "DC-1", location: Location(latitude: 40, longitude: -75, region: "PA"), costPerShipment: 1.5, costPerUnit: 0.25),
                Node(
                    id: "STORE-1", kind: .store, location: Location(latitude: 42, longitude: -71), enabled: false, canShip: false,
                    capacityUnits: 0),
                Node(id: "V", kind: .vendor, location: Location(latitude: -33.9, longitude: 151.2), capacityUnits: 40),
                Node(id: "T", kind: .thirdParty, location: Location(latitude: 1, longitude: 2)),
            ],
            skus: [SKU(id: "A", weightKilograms: 0.2, category: "hazmat", flags: ["hazmat", "oversize"]), SKU(id: "B")],
            inventory: [Stock(node: "DC-1", sku: "A", available: 7), Stock(node: "V", sku: "B", available: 0)],
            rates: Rates(perShipment: 4, perKilometer: 0.01, perKilogramKilometer: 0),
            rules: Rules(
                maxShipmentsPerOrder: 3, maxDistanceKilometers: 1_500, backorderPenalty: 0, minAvailable: 2, safetyStock: 1,
                exclude: [Exclusion(node: "DC-1"), Exclusion(kind: .store, region: "MA", skuCategory: "hazmat"), Exclusion(skuFlag: "oversize")]),
            profile: "express")
        #expect(try overTheWire(request) == request)
        var noStock = request
        noStock.inventory = []
        #expect(try overTheWire(noStock).inventory == [])
        noStock.inventory = nil
        #expect(try overTheWire(noStock).inventory == nil)
    }

    /// A message's absent fields mean what the JSON contract's absent keys
    /// mean: the same request from both, for seeded workloads and a minimal one.
    @Test func defaultsAreTheJSONContracts() throws {
        let minimal = #"{"orders":[{"id":"O","ship_to":{"latitude":1,"longitude":2},"lines":[{"id":"1","sku":"S","quantity":1}]}],"nodes":[{"id":"N","latitude":3,"longitude":4}]}"#
        let message = Fulcrum_V1_OptimizeProblem.with {
            $0.orders = [.with {
                $0.id = "O"
                $0.shipTo = .with { $0.latitude = 1; $0.longitude = 2 }
                $0.lines = [.with { $0.id = "1"; $0.sku = "S"; $0.quantity = 1 }]
            }]
            $0.nodes = [.with { $0.id = "N"; $0.latitude = 3; $0.longitude = 4 }]
        }
        #expect(try message.domain(defaultNodes: nil) == OptimizeRequest.decode(json: Data(minimal.utf8)))
        let withEmptyParts = try OptimizeRequest.decode(
            json: Data(minimal.replacingOccurrences(of: #""nodes""#, with: #""rates":{},"rules":{},"nodes""#).utf8))
        var emptyParts = message
        emptyParts.rates = .init()
        emptyParts.rules = .init()
        #expect(try emptyParts.domain(defaultNodes: nil) == withEmptyParts)
        for seed in 1...20 as ClosedRange<UInt64> {
            var workload = SyntheticWorkload(seed: seed, nodeCount: 30, skuCount: 20)
            let request = workload.request(orderCount: 3, linesPerOrder: 4)
            #expect(try overTheWire(request) == OptimizeRequest.decode(json: request.json()))
        }
    }

    @Test func aSolutionWithExplanationsSurvives() throws {
        var workload = SyntheticWorkload(seed: 5, nodeCount: 20, skuCount: 15)
        var request = workload.request(orderCount: 2, linesPerOrder: 3)
        request.rules.maxDistanceKilometers = 2_000
        request.rules.exclude = [Exclusion(node: request.nodes[3].id)]
        request.nodes[1].enabled = false
        request.nodes[2].kind = .store
        request.nodes[2].canShip = false
        let response = try Optimizer.solve(request, options: .init(explain: true))
        let explanations: [OrderExplanation] = response.explanations ?? []
        let reasons = Set(explanations.flatMap { order in order.nodes.flatMap { node in node.reasons.map(Self.code) } })
        #expect(reasons.isSuperset(of: ["disabled", "excluded", "cannot_ship", "more_expensive"]), "\(reasons)")
        let bytes: [UInt8] = try Fulcrum_V1_OptimizeSolution(response).serializedBytes()
        let back = try Fulcrum_V1_OptimizeSolution(serializedBytes: bytes).domain()
        #expect(back == response)
        #expect(back.json() == response.json())
        var unexplained = try Optimizer.solve(request)
        unexplained.plans[0].shipToPrecision = .city
        #expect(try Fulcrum_V1_OptimizeSolution(unexplained).domain() == unexplained)

        let everyReason: [NodeExplanation.Reason] = [
            .moreExpensive(extraCost: 1.5), .moreExpensive(extraCost: -2), .shipCompleteUnmet, .unpriced,
            .ineligible(line: nil, .disabled), .ineligible(line: "1", .excluded(rule: 2)), .ineligible(line: "1", .cannotShip),
            .ineligible(line: "2", .tooFar(distanceKilometers: 900, limitKilometers: 500)), .ineligible(line: nil, .notThePickupNode),
            .ineligible(line: "1", .noUsableStock), .ineligible(line: nil, .noCapacity), .ineligible(line: "3", .tooLittleForNoSplit(usable: 4)),
            .returnIneligible(.disabled), .returnIneligible(.doesNotAcceptReturns), .returnIneligible(.excluded(rule: 0)),
            .returnIneligible(.tooFar(distanceKilometers: 10, limitKilometers: 5)),
        ]
        var explained = response
        explained.explanations = [OrderExplanation(order: "O", nodes: [NodeExplanation(node: "N", reasons: everyReason)])]
        explained.explanationsIncomplete = true
        #expect(try Fulcrum_V1_OptimizeSolution(explained).domain() == explained)
        var unknown = Fulcrum_V1_OptimizeSolution(explained)
        unknown.explanations[0].nodes[0].reasons[0].reason = "bored"
        #expect(throws: FulcrumError.self) { try unknown.domain() }
    }

    private static func code(_ reason: NodeExplanation.Reason) -> String {
        switch reason {
        case .moreExpensive: "more_expensive"
        case .ineligible(_, let why): why.code
        default: "other"
        }
    }

    @Test func anOrderAndItsTimelineSurvive() throws {
        var order = OrderRecord(
            OrderIntake(
                id: "O-1", source: "shopify", shipTo: Address(latitude: 41.9, longitude: -87.6, region: "IL", country: "US", postalCode: "60601", city: "Chicago"),
                shippingMethod: "express", lines: [.init(id: "1", sku: "A", quantity: 2), .init(id: "2", sku: "B", quantity: 1)],
                attributes: ["channel": "web", "gift": ""]),
            at: Timestamp(millisecondsSinceEpoch: 1_700_000_000_000))
        order.state = OrderStates.released
        order.lines[0].allocations = ["DC-1": 1, "STORE-2": 1]
        order.sourceNode = "DC-1"
        order.sourceKind = "warehouse"
        order.shipComplete = false
        order.maxShipments = 2
        order.priority = 1.5
        order.fulfillmentOrders = [
            .init(id: "O-1/FO-1", node: "DC-1", lines: [.init(line: "1", sku: "A", quantity: 1)], state: "shipped", tracking: "1Z"),
            .init(id: "O-1/FO-2", node: "STORE-2", lines: [.init(line: "1", sku: "A", quantity: 1)], state: "created"),
        ]
        order.returns = [.init(id: "O-1/R-1", lines: [.init(sku: "A", quantity: 1)], state: "located", node: "DC-1")]
        order.failure = .init(step: "notify", code: "unavailable", message: "down", resumeStep: "notify", atMs: 5)
        order.waiting = [.init(step: "wms", messages: ["m-1", "m-2"], fields: ["carrier": "ups"])]
        order.updatedMs = 1_700_000_000_500
        let bytes: [UInt8] = try Fulcrum_V1_Order(order).serializedBytes()
        #expect(try Fulcrum_V1_Order(serializedBytes: bytes).domain == order)
        var bare = OrderRecord(
            OrderIntake(id: "O-2", source: "api", shipTo: Address(), lines: [.init(id: "1", sku: "A", quantity: 1)]),
            at: Timestamp(millisecondsSinceEpoch: 1))
        bare.lines[0].state = LineStates.open
        #expect(Fulcrum_V1_Order(bare).domain == bare)

        let kinds: [TimelineEntry.Kind] = [.event, .transition, .policy, .filter, .action, .provider, .error, .reprocess, .rejected]
        for (index, kind) in kinds.enumerated() {
            let entry = TimelineEntry(
                atMs: Int64(index), entity: "order:O-1", kind: kind, step: index % 2 == 0 ? "step" : nil, text: "t\(index)",
                code: kind == .error ? "unavailable" : nil)
            #expect(try Fulcrum_V1_TimelineEntry(entry).domain() == entry)
        }
        #expect(throws: FulcrumError.self) { try Fulcrum_V1_TimelineEntry.with { $0.kind = "gossip" }.domain() }
    }
}
