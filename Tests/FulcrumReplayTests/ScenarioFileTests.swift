import Foundation
import FulcrumCore
import FulcrumSolver
import FulcrumTestSupport
import Testing

@testable import FulcrumReplay

@Suite struct ScenarioFileTests {
    static let base = """
        version: 1
        name: base
        start: "2026-03-02"
        days: 3
        seed: 11
        network:
          nodes:
            - {id: DC-1, kind: warehouse, latitude: 40, longitude: -75, capacity_per_day: 100}
            - {id: ST-1, kind: store, latitude: 41, longitude: -74}
            - {id: ST-2, kind: store, latitude: 42, longitude: -73}
        catalogue:
          generate:
            count: 50
            categories: [{name: a, share: 1, weight_kg_min: 1, weight_kg_max: 2}]
        stock:
          generate:
            - {kind: warehouse, units_per_node: 1000}
        rules: {max_shipments_per_order: 3}
        demand:
          generate:
            orders_per_day: 100
            day_multipliers: [1, 2, 1]
            ship_to: [{name: C, latitude: 40.5, longitude: -74.5, share: 1}]
            lines_per_order: [0.5, 0.5]
        """

    private func write(_ files: [String: String]) throws -> String {
        let directory = temporaryDirectory()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for (name, text) in files { try text.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8) }
        return directory
    }

    @Test func theGeneratorIsDeterministicAndFollowsItsModel() throws {
        let scenario = try Scenario.parse(yaml: Self.base, file: "base.yaml")
        let first = ExpandedScenario(scenario)
        let second = ExpandedScenario(scenario)
        #expect(first.orders == second.orders && first.positions == second.positions && first.skus == second.skus)
        // Orders per day follow orders_per_day × day_multipliers.
        let perDay = Dictionary(grouping: first.orders) { ($0.arrival.millisecondsSinceEpoch - scenario.start.millisecondsSinceEpoch) / 86_400_000 }
        #expect(perDay.mapValues(\.count) == [0: 100, 1: 200, 2: 100])
        #expect(first.orders.map(\.arrival) == first.orders.map(\.arrival).sorted())
        #expect(first.orders.allSatisfy { (1...2).contains($0.order.lines.count) && Set($0.order.lines.map(\.sku)).count == $0.order.lines.count })
        // Zipf: the most popular SKU is ordered more often than the tenth.
        let lines = first.orders.flatMap(\.order.lines).map(\.sku)
        #expect(lines.filter { $0 == "SKU-01" }.count > lines.filter { $0 == "SKU-10" }.count)
        // Only warehouses are stocked, every SKU, most units on the most popular.
        #expect(first.positions.count == 50 && first.positions.allSatisfy { $0.node == "DC-1" })
        #expect(first.positions[0].onHand > first.positions[49].onHand)
        var reseeded = scenario
        reseeded.seed = 12
        #expect(ExpandedScenario(reseeded).orders != first.orders)
        #expect(ExpandedScenario(reseeded).positions != first.positions)
    }

    @Test func extendsMergesMappingsAndListsById() throws {
        let directory = try write([
            "base.yaml": Self.base,
            "what-if.yaml": """
                version: 1
                extends: base.yaml
                name: what-if
                network:
                  nodes:
                    - {id: ST-1, enabled: false}
                    - {id: ST-2, remove: true}
                    - {id: DC-2, latitude: 39.7, longitude: -105, capacity_per_day: 50}
                stock:
                  generate:
                    - {kind: store, units_per_node: 10}
                demand:
                  generate:
                    multiplier: 3
                """,
        ])
        let scenario = try Scenario.load(path: directory + "/what-if.yaml")
        #expect(scenario.name == "what-if" && scenario.days == 3 && scenario.seed == 11)
        #expect(scenario.nodes.map(\.node.id) == ["DC-1", "ST-1", "DC-2"])
        // A merged item keeps the base's other fields.
        #expect(scenario.nodes[1].node.enabled == false && scenario.nodes[1].node.kind == .store)
        #expect(scenario.nodes[1].node.location.latitude == 41)
        #expect(scenario.nodes[2].capacityPerDayUnits == 50)
        // A list without ids replaces the base's.
        #expect(scenario.stock.rules.count == 1 && scenario.stock.rules[0].kind == .store)
        guard case .generated(let model) = scenario.demand else { Issue.record("generated demand"); return }
        #expect(model.multiplier == 3 && model.ordersPerDay == 100 && model.dayMultipliers == [1, 2, 1])
        #expect(scenario.rules.maxShipmentsPerOrder == 3)
        #expect(ExpandedScenario(scenario).orders.count == 1200)
    }

    @Test func errorsNameTheFileTheLineAndTheField() throws {
        let directory = try write([
            "good.yaml": Self.base,
            "bad-base.yaml": Self.base.replacingOccurrences(of: "latitude: 41,", with: "latitude: 141,"),
            "child-of-bad.yaml": "version: 1\nextends: bad-base.yaml\nname: child\n",
            "child.yaml": "version: 1\nextends: good.yaml\nname: child\nrules: {max_shipments_per_order: 0}\n",
            "cycle.yaml": "version: 1\nextends: cycle.yaml\n",
            "missing.yaml": "version: 1\nextends: nowhere.yaml\n",
        ])
        func error(_ path: String) -> FulcrumError? {
            do {
                _ = try Scenario.load(path: directory + "/" + path)
                return nil
            } catch {
                return error
            }
        }
        // A bad value from the base file names the base file; one from the child, the child.
        #expect(error("child-of-bad.yaml")?.path == "\(directory)/bad-base.yaml:9:41: network.nodes[1].latitude")
        #expect(error("child.yaml")?.path == "\(directory)/child.yaml:4:34: rules.max_shipments_per_order")
        #expect(error("cycle.yaml")?.path.hasSuffix("cycle.yaml:2:10: extends") == true)
        #expect(error("missing.yaml")?.path == "\(directory)/nowhere.yaml")
        #expect([error("child.yaml"), error("cycle.yaml"), error("missing.yaml")].allSatisfy { $0?.code == .invalidScenario })
    }

    /// Bad files: (text, where the error must point, a fragment of its message).
    static let badFileCases: [(yaml: String, path: String, message: String)] = [
        ("version: 1\nname: [x\n", "bad.yaml:3:1", "not valid YAML"),
        ("version: 2\n", "bad.yaml:1:10: version", "not supported"),
        ("[1, 2]\n", "bad.yaml:1:1", "must be a mapping"),
        (base.replacingOccurrences(of: "seed: 11", with: "seed: 11\ncolour: red"), "bad.yaml:6:1: colour", "unknown field"),
        (base.replacingOccurrences(of: "id: ST-2", with: "id: ST-1"), "bad.yaml:8:5: network.nodes", "listed twice"),
        (base.replacingOccurrences(of: "kind: store, latitude: 42", with: "kind: shop, latitude: 42"), "bad.yaml:10:24: network.nodes[2].kind", "allowed"),
        (base.replacingOccurrences(of: "longitude: -73}", with: "longitude: -73, speed: 3}"), "bad.yaml:10:61: network.nodes[2].speed", "unknown field 'speed'"),
        (base.replacingOccurrences(of: "days: 3", with: "days: three"), "bad.yaml:4:7: days", "not a whole number"),
        (base.replacingOccurrences(of: "start: \"2026-03-02\"", with: "start: \"2026-02-30\""), "bad.yaml:3:8: start", "not a date"),
        (base.replacingOccurrences(of: "[1, 2, 1]", with: "[1, 2]"), "bad.yaml:22:22: demand.generate.day_multipliers", "3 numbers"),
        (base.replacingOccurrences(of: "lines_per_order: [0.5, 0.5]", with: "lines_per_order: [0.5, -1]"), "bad.yaml:24:28: demand.generate.lines_per_order[1]", "outside"),
        (base + "\nsupply:\n  - {type: receipt, day: 5, node: DC-1, sku: SKU-01, quantity: 3}", "bad.yaml:26:26: supply[0].day", "outside"),
        (base + "\nsupply:\n  - {type: receipt, day: 1, node: DC-9, sku: SKU-01, quantity: 3}", "bad.yaml:26:35: supply[0].node", "not defined"),
        (base + "\nsupply:\n  - {type: flood, day: 1}", "bad.yaml:26:12: supply[0].type", "not receipt"),
        (base.replacingOccurrences(of: "  generate:\n    orders_per_day", with: "  colour: 1\n  generate:\n    orders_per_day"), "bad.yaml:20:3: demand.colour", "unknown field"),
        (base.replacingOccurrences(of: "{kind: warehouse, units_per_node", with: "{nodes: [DC-7], units_per_node"), "bad.yaml:17:16: stock.generate[0].nodes[0]", "not a node"),
    ]

    /// Each bad file is an `invalid_scenario` error at the right place, with a message.
    @Test(arguments: badFileCases)
    func badFiles(yaml: String, path: String, message: String) {
        do {
            _ = try Scenario.parse(yaml: yaml, file: "bad.yaml")
            Issue.record("accepted: \(yaml)")
        } catch {
            #expect(error.code == .invalidScenario)
            #expect(error.path == path)
            #expect(error.message.contains(message), "\(error.message)")
        }
    }

    /// A server's ledger may hold a position from an earlier run: every
    /// position a supply event touches is set, at zero when not stocked.
    @Test func positionsTouchedOnlyBySupplyStartAtZero() throws {
        let yaml = Scenarios.tiny(
            stock: "    - {node: A, sku: X, on_hand: 2}",
            supply: "\n  - {type: receipt, day: 0, node: B, sku: X, quantity: 5}",
            orders: Scenarios.order("O1", day: 0, time: "04:00", quantity: 1))
        let expanded = ExpandedScenario(try Scenario.parse(yaml: yaml, file: "t.yaml"))
        #expect(expanded.positions.map { "\($0.node)/\($0.sku)=\($0.onHand)" } == ["A/X=2", "B/X=0"])
    }

    @Test func explicitOrdersAreCheckedAgainstTheScenario() {
        let yaml = Scenarios.tiny(
            stock: "    - {node: A, sku: X, on_hand: 1}",
            orders: "    - {id: O1, day: 0, ship_to: {latitude: 0, longitude: 0}, lines: [{sku: Y, quantity: 1}]}")
        #expect(throws: FulcrumError.self) { try Scenario.parse(yaml: yaml, file: "t.yaml") }
        do {
            _ = try Scenario.parse(yaml: yaml, file: "t.yaml")
        } catch {
            #expect(error.path.hasSuffix(": demand.orders[0].lines[0].sku"))
        }
    }
}
