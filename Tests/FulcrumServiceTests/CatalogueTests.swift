import Foundation
import FulcrumConfig
import FulcrumCore
import FulcrumLedger
import FulcrumService
import FulcrumTestSupport
import Testing

/// The SKU catalogue: durable, checked at the door, and used by live solves
/// for the SKUs a request does not list.
@Suite struct CatalogueTests {
    static let caller = Caller(token: "test", request: "test")

    static func chicagoOrder(_ sku: String, profile: String? = nil) -> OptimizeRequest {
        OptimizeRequest(
            orders: [Order(id: "CHI-1", shipTo: Location(latitude: 41.88, longitude: -87.63), lines: [Line(id: "1", sku: sku, quantity: 1)])],
            nodes: DemoData.network.nodes, profile: profile)
    }

    @Test func weightsAndCategoriesReachLiveSolvesAndSurviveARestart() async throws {
        let directory = temporaryDirectory()
        var options = Service.Options()
        options.profiles = FulfillmentProfiles(
            [FulfillmentProfile(name: "no-bulky-from-stores", rules: Rules(exclude: [Exclusion(kind: .store, skuCategory: "bulky")]))],
            source: nil)
        var service = Service(ledger: try Ledger(directory: directory), network: DemoData.network, options: options)
        _ = try await DemoData.load(into: service)
        let sku = try #require(DemoData.skus.first { try! service.position(node: "STORE-CHI", sku: $0).available >= 1 })
        func nodes(_ request: OptimizeRequest) throws -> [String] {
            try service.optimize(request, options: OptimizeOptions()).plans[0].shipments.map(\.node)
        }
        // 1 kg travels from DC-EAST for less than the store's handling.
        #expect(try nodes(Self.chicagoOrder(sku)) == ["DC-EAST"])
        #expect(try await service.upsert([SKU(id: sku, weightKilograms: 10, category: "bulky")], caller: Self.caller) == 1)
        // 10 kg over 1,150 km costs more than the store's handling next door.
        #expect(try nodes(Self.chicagoOrder(sku)) == ["STORE-CHI"])
        // A profile's category exclusion sees the catalogue's category.
        #expect(try nodes(Self.chicagoOrder(sku, profile: "no-bulky-from-stores")) == ["DC-EAST"])
        // A request's own SKUs still win.
        var own = Self.chicagoOrder(sku)
        own.skus = [SKU(id: sku, weightKilograms: 1)]
        #expect(try nodes(own) == ["DC-EAST"])
        #expect(try service.auditTrail(limit: 1).first?.operation == "upsert_skus")

        service.close()
        service = Service(ledger: try Ledger(directory: directory), network: DemoData.network, options: options)
        defer { service.close() }
        #expect(try service.skus() == [SKU(id: sku, weightKilograms: 10, category: "bulky")])
        #expect(try nodes(Self.chicagoOrder(sku)) == ["STORE-CHI"])
    }

    @Test func badSkusAreRefusedAndNothingIsStored() async throws {
        let service = Service(ledger: try Ledger(directory: temporaryDirectory()), network: DemoData.network)
        defer { service.close() }
        let cases: [([SKU], FulcrumError.Code, String)] = [
            ([SKU(id: "", weightKilograms: 1)], .invalidArgument, "skus[0].id"),
            ([SKU(id: "A", weightKilograms: 0)], .invalidArgument, "skus[0].weight_kg"),
            ([SKU(id: "A"), SKU(id: "A")], .duplicateID, "skus[1].id"),
            ([SKU(id: "A", category: "")], .invalidArgument, "skus[0].category"),
            ([], .invalidArgument, "skus"),
        ]
        for (skus, code, path) in cases {
            do {
                _ = try await service.upsert(skus, caller: Self.caller)
                Issue.record("accepted \(skus)")
            } catch {
                #expect(error.code == code && error.path.hasPrefix(path), "\(error)")
            }
        }
        #expect(try service.skus().isEmpty)
    }

    @Test func catalogueFilesReadAsYAMLOrCSVAndMistakesNameTheirLine() throws {
        #expect(try CatalogueFile.decode(yaml: "version: 1\nskus:\n  - {id: A, weight_kg: 0.3, category: apparel}\n  - {id: B}\n", file: "c.yaml")
            == [SKU(id: "A", weightKilograms: 0.3, category: "apparel"), SKU(id: "B")])
        #expect(try CatalogueFile.decode(csv: "sku,weight_kg,category\r\nA,0.3,apparel\nB,2,\n", file: "c.csv")
            == [SKU(id: "A", weightKilograms: 0.3, category: "apparel"), SKU(id: "B", weightKilograms: 2)])
        #expect(try CatalogueFile.decode(yaml: "version: 1\nskus:\n  - {id: A, flags: [hazmat, oversize]}\n", file: "c.yaml")
            == [SKU(id: "A", flags: ["hazmat", "oversize"])])
        #expect(try CatalogueFile.decode(csv: "sku,weight_kg,flags\nA,1,hazmat|oversize\nB,1,\n", file: "c.csv")
            == [SKU(id: "A", flags: ["hazmat", "oversize"]), SKU(id: "B")])
        let mistakes: [(() throws -> [SKU], String)] = [
            ({ try CatalogueFile.decode(yaml: "version: 1\nskus:\n  - {id: A, weight: 2}\n", file: "c.yaml") }, "c.yaml:3:13: skus[0].weight"),
            ({ try CatalogueFile.decode(yaml: "version: 1\nskus:\n  - {id: A, weight_kg: -1}\n", file: "c.yaml") }, "c.yaml:3:24: skus[0].weight_kg"),
            ({ try CatalogueFile.decode(csv: "sku,weight_kg\nA,heavy\n", file: "c.csv") }, "c.csv:2: weight_kg"),
            ({ try CatalogueFile.decode(csv: "sku,weight_kg\nA,1\nA,2\n", file: "c.csv") }, "c.csv:3: sku"),
            ({ try CatalogueFile.decode(csv: "sku,weight\nA,1\n", file: "c.csv") }, "c.csv:1"),
            ({ try CatalogueFile.decode(csv: "sku,weight_kg\n\"A,B\",1\n", file: "c.csv") }, "c.csv:2"),
            ({ try CatalogueFile.decode(yaml: "version: 1\nskus:\n  - {id: A, flags: hazmat}\n", file: "c.yaml") }, "c.yaml:3:20: skus[0].flags"),
        ]
        for (decode, path) in mistakes {
            do {
                _ = try decode()
                Issue.record("accepted, expected an error at \(path)")
            } catch let error as FulcrumError {
                #expect(error.code == .invalidCatalogue && error.path == path, "\(error)")
            }
        }
    }

    /// A flag in the catalogue reaches live solves: a profile's exclusion
    /// naming it keeps hazmat goods out of stores.
    @Test func flagsReachExclusionsOfLiveSolves() async throws {
        var options = Service.Options()
        options.profiles = FulfillmentProfiles(
            [FulfillmentProfile(name: "no-hazmat-in-stores", rules: Rules(exclude: [Exclusion(kind: .store, skuFlag: "hazmat")]))],
            source: nil)
        let service = Service(ledger: try Ledger(directory: temporaryDirectory()), network: DemoData.network, options: options)
        defer { service.close() }
        _ = try await DemoData.load(into: service)
        let sku = try #require(DemoData.skus.first { try! service.position(node: "STORE-CHI", sku: $0).available >= 1 })
        func nodes(_ profile: String?) throws -> [String] {
            try service.optimize(Self.chicagoOrder(sku, profile: profile), options: OptimizeOptions()).plans[0].shipments.map(\.node)
        }
        _ = try await service.upsert([SKU(id: sku, weightKilograms: 10, flags: ["hazmat"])], caller: Self.caller)
        #expect(try nodes(nil) == ["STORE-CHI"])
        #expect(try nodes("no-hazmat-in-stores") == ["DC-EAST"])
        _ = try await service.upsert([SKU(id: sku, weightKilograms: 10)], caller: Self.caller)
        #expect(try nodes("no-hazmat-in-stores") == ["STORE-CHI"])
        await #expect(throws: FulcrumError.self) {
            try await service.upsert([SKU(id: sku, flags: ["hazmat", "hazmat"])], caller: Self.caller)
        }
    }
}
