import Foundation
import FulcrumCore
import FulcrumSolver
import Testing

@Suite struct ReturnTests {
    static func request(_ extra: String = "") -> Data {
        Data("""
            {"return": {"id": "R1", "order": "o1", "from": {"latitude": 40.7, "longitude": -74.0},
                        "lines": [{"id": "l1", "sku": "A", "quantity": 2}, {"id": "l2", "sku": "B", "quantity": 1}]},
             "nodes": [{"id": "NJ", "latitude": 40.0, "longitude": -74.5, "return_cost_per_unit": 1.5},
                       {"id": "CHI", "latitude": 41.9, "longitude": -87.6, "return_cost_per_shipment": 0.5},
                       {"id": "STORE", "kind": "store", "latitude": 40.7, "longitude": -74.0, "accepts_returns": false},
                       {"id": "OFF", "latitude": 40.7, "longitude": -74.0, "enabled": false},
                       {"id": "FAR", "latitude": 34.0, "longitude": -118.0},
                       {"id": "NOFRAGILE", "latitude": 40.7, "longitude": -74.1}],
             "skus": [{"id": "A", "weight_kg": 2, "category": "fragile"}],
             "rules": {"max_distance_km": 2000, "exclude": [{"node": "NOFRAGILE", "sku_category": "fragile"}]}\(extra)}
            """.utf8)
    }

    /// Shipping plus handling, priced by hand for every node that may take it.
    static func cost(_ node: (latitude: Double, longitude: Double, perShipment: Double, perUnit: Double)) -> Double {
        let distance = PlanChecker.haversine(Location(latitude: 40.7, longitude: -74.0), Location(latitude: node.latitude, longitude: node.longitude))
        return 5 + 0.0005 * (2 * 2 + 1 * 1) * distance + node.perShipment + node.perUnit * 3
    }

    @Test func choosesTheCheapestEligibleNodeAndExplainsTheRest() throws {
        let response = ReturnOptimizer.choose(try ReturnRequest.decode(json: Self.request()), explain: true)
        let chicago = Self.cost((41.9, -87.6, 0.5, 0))
        let newJersey = Self.cost((40.0, -74.5, 0, 1.5))
        #expect(response.choice?.node == "CHI")
        #expect(PlanChecker.close(response.choice!.cost, chicago))
        let reasons = Dictionary(uniqueKeysWithValues: response.explanations!.map { ($0.node, $0.reasons) })
        #expect(reasons["CHI"] == nil)
        guard case .moreExpensive(let extra) = reasons["NJ"]?.first else {
            Issue.record("NJ: \(String(describing: reasons["NJ"]))")
            return
        }
        #expect(PlanChecker.close(extra, newJersey - chicago))
        #expect(reasons["STORE"] == [.returnIneligible(.doesNotAcceptReturns)])
        #expect(reasons["OFF"] == [.returnIneligible(.disabled)])
        #expect(reasons["NOFRAGILE"] == [.returnIneligible(.excluded(rule: 0))])
        guard case .returnIneligible(.tooFar(_, 2000)) = reasons["FAR"]?.first else {
            Issue.record("FAR: \(String(describing: reasons["FAR"]))")
            return
        }
    }

    @Test func noEligibleNodeIsANullChoiceNotAnError() throws {
        let request = Data("""
            {"return": {"id": "R2", "from": {"latitude": 0, "longitude": 0}, "lines": [{"id": "l", "sku": "A", "quantity": 1}]},
             "nodes": [{"id": "X", "latitude": 0, "longitude": 0, "accepts_returns": false}]}
            """.utf8)
        let response = ReturnOptimizer.choose(try ReturnRequest.decode(json: request))
        #expect(response.choice == nil)
        #expect(String(decoding: response.json(), as: UTF8.self).contains("\"node\":null"))
    }

    @Test func badReturnsAreTypedErrors() {
        let cases: [(String, FulcrumError.Code, String)] = [
            (#"{"return": {"id": "R", "from": {"latitude": 0, "longitude": 0}, "lines": []}, "nodes": []}"#, .invalidArgument, "return.lines"),
            (#"{"return": {"id": "R", "from": {"latitude": 95, "longitude": 0}, "lines": [{"id": "l", "sku": "A", "quantity": 1}]}, "nodes": []}"#, .invalidArgument, "return.from.latitude"),
            (#"{"return": {"id": "R", "from": {"latitude": 0, "longitude": 0}, "lines": [{"id": "l", "sku": "A", "quantity": 0}]}, "nodes": []}"#, .invalidArgument, "return.lines[0].quantity"),
            (#"{"return": {"id": "R", "from": {"latitude": 0, "longitude": 0}, "lines": [{"id": "l", "sku": "A", "quantity": 1}]}, "nodes": [{"id": "N", "latitude": 0, "longitude": 0, "return_cost_per_unit": -1}]}"#, .invalidArgument, "nodes[0].return_cost_per_unit"),
            (#"{"return": {"id": "R", "from": {"latitude": 0, "longitude": 0}}, "nodes": []}"#, .invalidJSON, "return.lines"),
        ]
        for (json, code, path) in cases {
            do {
                _ = try ReturnRequest.decode(json: Data(json.utf8))
                Issue.record("accepted \(json)")
            } catch {
                #expect(error.code == code && error.path == path, "\(json): \(error)")
            }
        }
    }
}
