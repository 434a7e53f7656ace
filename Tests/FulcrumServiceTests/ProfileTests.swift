import Foundation
import FulcrumConfig
import FulcrumCore
import FulcrumLedger
import FulcrumService
import FulcrumTestSupport
import Testing

/// Fulfillment profiles at the service: live solves run under them, a
/// request's own fields override them, and a reload that fails keeps them.
@Suite struct ProfileTests {
    static let yaml = """
        version: 1
        profiles:
          - name: no-east
            rules:
              max_distance_km: 2500
              exclude: [{node: DC-EAST}, {kind: store}]
          - name: nearest
            strategy: greedy-nearest
        """

    static func service(profilesFile: String?) async throws -> Service {
        let ledger = try Ledger(directory: temporaryDirectory())
        _ = try await DemoData.load(into: ledger)
        var options = Service.Options()
        if let profilesFile {
            options.profiles = try ProfilesFile.load(path: profilesFile, nodeIDs: DemoData.network.nodeIDs)
            options.profilesFile = profilesFile
        }
        return Service(ledger: ledger, network: DemoData.network, options: options)
    }

    static func request(profile: String?, rules: String = "") throws -> OptimizeRequest {
        let profileField = profile.map { #", "profile": "\#($0)""# } ?? ""
        return try OptimizeRequest.decode(
            json: Data(#"""
                {"orders": [{"id": "NYC-1", "ship_to": {"latitude": 40.7, "longitude": -74.0},
                             "lines": [{"id": "1", "sku": "JEANS-32", "quantity": 1}]}]\#(profileField)\#(rules)}
                """#.utf8), defaultNodes: DemoData.network.nodes)
    }

    static func nodes(_ response: OptimizeResponse) -> [String] { response.plans[0].shipments.map(\.node) }

    @Test func aProfileChangesThePlanAndARequestOverridesIt() async throws {
        let file = temporaryDirectory() + ".yaml"
        try Self.yaml.write(toFile: file, atomically: true, encoding: .utf8)
        let service = try await Self.service(profilesFile: file)
        defer { service.close() }
        let plain = try service.optimize(try Self.request(profile: nil), options: OptimizeOptions())
        #expect(Self.nodes(plain) == ["DC-EAST"])
        // DC-EAST and the stores excluded, DC-WEST beyond 2,500 km: DC-CENTRAL.
        let underProfile = try service.optimize(try Self.request(profile: "no-east"), options: OptimizeOptions())
        #expect(Self.nodes(underProfile) == ["DC-CENTRAL"])
        // The request's own exclusions replace the profile's; its distance limit stays.
        let overridden = try service.optimize(
            try Self.request(profile: "no-east", rules: #", "rules": {"exclude": [{"node": "DC-CENTRAL"}]}"#),
            options: OptimizeOptions())
        #expect(Self.nodes(overridden) == ["DC-EAST"])
        // The profile's strategy applies unless the caller chose one.
        #expect(service.recentDecisions.last?.strategy == .optimal)
        _ = try service.optimize(try Self.request(profile: "nearest"), options: OptimizeOptions())
        #expect(service.recentDecisions.last?.strategy == .greedyNearest)
        _ = try service.optimize(try Self.request(profile: "nearest"), options: OptimizeOptions(strategy: .optimal))
        #expect(service.recentDecisions.last?.strategy == .optimal)
        #expect(throws: FulcrumError(.unknownReference, "no fulfillment profile peak is configured (configured: default, nearest, no-east, standard)", path: "profile")) {
            _ = try service.optimize(try Self.request(profile: "peak"), options: OptimizeOptions())
        }
    }

    @Test func aReloadThatFailsKeepsTheProfilesInForce() async throws {
        let file = temporaryDirectory() + ".yaml"
        try Self.yaml.write(toFile: file, atomically: true, encoding: .utf8)
        let service = try await Self.service(profilesFile: file)
        defer { service.close() }
        let caller = Caller(token: "test", request: "test")
        try "version: 1\nprofiles:\n  - name: no-east\n    rules: {max_distance_km: far}\n".write(toFile: file, atomically: true, encoding: .utf8)
        await #expect(throws: FulcrumError(.invalidProfiles, "'far' is not a number", path: "\(file):4:30: profiles[0].rules.max_distance_km")) {
            _ = try await service.reloadProfiles(caller: caller)
        }
        #expect(service.profiles.names == ["default", "nearest", "no-east", "standard"])
        try "version: 1\nprofiles:\n  - name: no-east\n    rules: {exclude: [{node: DC-CENTRAL}, {node: DC-EAST}, {kind: store}]}\n"
            .write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try await service.reloadProfiles(caller: caller).names == ["default", "no-east", "standard"])
        #expect(Self.nodes(try service.optimize(try Self.request(profile: "no-east"), options: OptimizeOptions())) == ["DC-WEST"])
        #expect(try service.auditTrail(limit: 5).contains { $0.operation == "reload_profiles" })
        // Journeys that name a profile the file does not define do not start.
        let journeys = try Journeys.load(file: nil)
        try "version: 1\nprofiles:\n  - name: standard\n".write(toFile: file, atomically: true, encoding: .utf8)
        _ = try await service.reloadProfiles(caller: caller)
        try await service.startJourneys(journeys)
        try "version: 1\nprofiles:\n  - name: express\n".write(toFile: file, atomically: true, encoding: .utf8)
        // `standard` is built in, so a file without it still serves the standard journey.
        #expect(try await service.reloadProfiles(caller: caller).names == ["default", "express", "standard"])
    }

    @Test func journeysNamingAnUnknownProfileDoNotStart() async throws {
        let directory = temporaryDirectory()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let journeyFile = directory + "/journeys.yaml"
        try "version: 1\njourneys:\n  - id: j\n    steps:\n      - id: source\n        on: [order.created]\n        action: optimize_and_reserve\n        profile: peak\n"
            .write(toFile: journeyFile, atomically: true, encoding: .utf8)
        let service = try await Self.service(profilesFile: nil)
        defer { service.close() }
        await #expect(throws: FulcrumError(.unknownReference, "step source names the fulfillment profile peak, which the built-in profiles does not define", path: "\(journeyFile): step source")) {
            try await service.startJourneys(try Journeys.load(file: journeyFile))
        }
        try "version: 1\npolicies:\n  - id: big-orders-express\n    when: \"total_quantity > 5\"\n    set: {profile: express}\njourneys:\n  - id: j\n    steps:\n      - id: source\n        on: [order.created]\n        policies: [big-orders-express]\n        action: optimize_and_reserve\n"
            .write(toFile: journeyFile, atomically: true, encoding: .utf8)
        await #expect(throws: FulcrumError(.unknownReference, "policy big-orders-express names the fulfillment profile express, which the built-in profiles does not define", path: "\(journeyFile): policy big-orders-express")) {
            try await service.startJourneys(try Journeys.load(file: journeyFile))
        }
    }
}
