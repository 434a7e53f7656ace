import FulcrumConfig
import FulcrumCore
import Testing

/// Fulfillment profiles files: what a profile sets is `given`, the rest keeps
/// the contract's defaults; every mistake names file:line:column and field.
@Suite struct ProfilesFileTests {
    static let nodes: Set<String> = ["DC-EAST", "STORE-NYC"]

    @Test func aProfileSetsOnlyWhatItWrites() throws {
        let profiles = try ProfilesFile.decode(
            yaml: """
                version: 1
                profiles:
                  - name: express
                    strategy: greedy-nearest
                    time_limit_ms: 200
                    ship_complete: true
                    on_shortage: backorder
                    rates: {per_shipment: 8}
                    rules:
                      max_distance_km: 1200
                      exclude: [{node: DC-EAST}, {kind: store}]
                  - name: default
                    rules: {max_shipments_per_order: 2}
                """, file: "p.yaml", nodeIDs: Self.nodes)
        #expect(profiles.names == ["default", "express", "standard"])
        #expect(profiles.source == "p.yaml")
        let express = try profiles.profile("express", path: "profile")
        #expect(express.rates.given == [.perShipment] && express.rates.perShipment == 8 && express.rates.perKilometer == 0)
        #expect(express.rules.given == [.maxDistanceKilometers, .exclude])
        #expect(express.rules.exclude == [Exclusion(node: "DC-EAST"), Exclusion(kind: .store)])
        #expect(express.strategy == .greedyNearest && express.timeLimitMilliseconds == 200 && express.shipComplete)
        #expect(express.onShortage == .backorder)
        #expect(try profiles.profile(nil, path: "profile").onShortage == nil)
        #expect(express.json.rendered == #"{"name":"express","rates":{"per_shipment":8},"rules":{"exclude":[{"node":"DC-EAST"},{"kind":"store"}],"max_distance_km":1200},"strategy":"greedy-nearest","time_limit_ms":200,"ship_complete":true,"on_shortage":"backorder"}"#)
        #expect(try profiles.profile(nil, path: "profile").rules.maxShipmentsPerOrder == 2)
        // `standard` is built in when the file leaves it out: the contract's defaults.
        #expect(try profiles.profile("standard", path: "profile") == FulfillmentProfile(name: "standard"))
        #expect(throws: FulcrumError(.unknownReference, "no fulfillment profile peak is configured (configured: default, express, standard)", path: "step")) {
            _ = try profiles.profile("peak", path: "step")
        }
    }

    /// A request's own fields override the profile's one by one; the
    /// caller's strategy and time limit override the profile's.
    @Test func aRequestOverridesItsProfileFieldByField() throws {
        let profiles = FulfillmentProfiles(
            [FulfillmentProfile(
                name: "express", rates: Rates(perShipment: 8, perKilometer: 0.01),
                rules: Rules(maxDistanceKilometers: 500, safetyStock: 2, exclude: [Exclusion(kind: .store)]),
                strategy: .greedyNearest, timeLimitMilliseconds: 200, shipComplete: true)],
            source: nil)
        var request = OptimizeRequest(
            orders: [Order(id: "A", shipTo: Location(latitude: 1, longitude: 2), lines: [Line(id: "1", sku: "X", quantity: 1)])],
            nodes: [], rates: Rates(perKilometer: 0.02), rules: Rules(maxDistanceKilometers: 900, exclude: []), profile: "express")
        var options = OptimizeOptions(strategy: .optimal)
        try profiles.apply(to: &request, options: &options)
        #expect(request.rates == Rates(perShipment: 8, perKilometer: 0.02, perKilogramKilometer: 0.0005))
        #expect(request.rules == Rules(maxDistanceKilometers: 900, safetyStock: 2, exclude: []))
        #expect(request.orders[0].shipComplete)
        #expect(options.strategy == .optimal && options.timeLimitMilliseconds == 200)
    }

    @Test(arguments: [
        ("version: 1\nprofiles:\n  - name: a\n    stratgy: optimal\n", "p.yaml:4:5: profiles[0].stratgy", "unknown field 'stratgy' (did you mean 'strategy'?)"),
        ("version: 1\nprofiles:\n  - name: a\n    strategy: cheapest\n", "p.yaml:4:15: profiles[0].strategy", "not one of the allowed values"),
        ("version: 1\nprofiles:\n  - name: a\n    rules: {exclude: [{node: DC-WEST}]}\n", "p.yaml:4:30: profiles[0].rules.exclude[0].node", "'DC-WEST' is not defined in the server's network"),
        ("version: 1\nprofiles:\n  - name: a\n    rules: {exclude: [{}]}\n", "p.yaml:4:23: profiles[0].rules.exclude[0]", "an exclusion needs node, kind, region, sku_category or sku_flag"),
        ("version: 1\nprofiles:\n  - name: a\n  - name: a\n", "p.yaml:4:11: profiles[1].name", "'a' names two profiles"),
        ("version: 1\nprofiles:\n  - name: a\n    rates: {per_km: -1}\n", "p.yaml:4:21: profiles[0].rates.per_km", "outside"),
        ("version: 1\nprofiles:\n  - name: a\n    time_limit_ms: 0\n", "p.yaml:4:20: profiles[0].time_limit_ms", "outside"),
        ("version: 2\nprofiles: []\n", "p.yaml:1:10: version", "only version 1 exists"),
        ("version: 1\nprofiles: [\n", "p.yaml:3:1", "not valid YAML"),
    ])
    func aMistakeIsRefusedAtItsPlace(yaml: String, path: String, message: String) {
        do {
            _ = try ProfilesFile.decode(yaml: yaml, file: "p.yaml", nodeIDs: Self.nodes)
            Issue.record("accepted \(yaml)")
        } catch {
            #expect(error.code == .invalidProfiles)
            #expect(error.path == path, "\(error)")
            #expect(error.message.contains(message), "\(error)")
        }
    }
}
