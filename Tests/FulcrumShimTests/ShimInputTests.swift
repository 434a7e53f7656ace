import Foundation
import FulcrumClient
import FulcrumCore
import FulcrumOrchestration
@testable import FulcrumShims
import FulcrumTestSupport
import FulcrumWire
import Testing

/// Bad input at the shims: each refused with a typed error, nothing stored.
@Suite(.serialized) struct ShimInputTests {
    @Test func shopifyWebhooksAreVerifiedAndBadOnesRefusedWithTypedErrors() async throws {
        let harness = try await ShimHarness()
        let body = shopifyOrder(7001)
        let url = harness.shopifyURL
        func expectError(_ answer: (status: Int, body: String), _ status: Int, _ code: String, _ path: String, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(answer.status == status, "\(answer.body)", sourceLocation: sourceLocation)
            #expect(answer.body.contains(#""code":"\#(code)""#), "\(answer.body)", sourceLocation: sourceLocation)
            #expect(answer.body.contains(#""path":"\#(path)""#), "\(answer.body)", sourceLocation: sourceLocation)
        }
        expectError(try await post(url, body: body, headers: shopifyHeaders(body, secret: "wrong", webhook: "w1")), 401, "bad_signature", "X-Shopify-Hmac-Sha256")
        expectError(try await post(url, body: body, headers: [("X-Shopify-Webhook-Id", "w1")]), 401, "bad_signature", "X-Shopify-Hmac-Sha256")
        var stale = shopifyHeaders(body, webhook: "w1")
        stale[3] = ("X-Shopify-Triggered-At", Date(timeIntervalSinceNow: -3_600).ISO8601Format())
        expectError(try await post(url, body: body, headers: stale), 401, "bad_signature", "X-Shopify-Triggered-At")
        let tampered = body.replacingOccurrences(of: "\"quantity\": 2", with: "\"quantity\": 200")
        expectError(try await post(url, body: tampered, headers: shopifyHeaders(body, webhook: "w1")), 401, "bad_signature", "X-Shopify-Hmac-Sha256")
        let malformed = #"{"id": 7002, "line_items": [{"id": 1, "sku": "SHOP-TEE", "quantity": "two"}]}"#
        expectError(try await post(url, body: malformed, headers: shopifyHeaders(malformed, webhook: "w2")), 400, "invalid_json", "line_items[0].quantity")
        let unmapped = shopifyOrder(7003, sku: "SHOP-UNKNOWN")
        expectError(try await post(url, body: unmapped, headers: shopifyHeaders(unmapped, webhook: "w3")), 422, "unmapped_value", "line_items[0].sku")
        let badTopic = try await post(url, body: body, headers: shopifyHeaders(body, webhook: "w4", topic: "products/create"))
        expectError(badTopic, 400, "invalid_argument", "X-Shopify-Topic")
        // None of those reached fulcrumd.
        for id in ["SHOPIFY-7001", "SHOPIFY-7002", "SHOPIFY-7003"] {
            await #expect(throws: FulcrumError.self) { _ = try await harness.order(id) }
        }

        #expect(try await post(url, body: body, headers: shopifyHeaders(body, webhook: "w5")).status == 202)
        expectError(try await post(url, body: body, headers: shopifyHeaders(body, webhook: "w5")), 409, "duplicate_id", "idempotency_key")
        expectError(try await post(url, body: body, headers: shopifyHeaders(body, webhook: "w6")), 409, "duplicate_id", "order.id")
        let cancel = try await post(url, body: body, headers: shopifyHeaders(body, webhook: "w7", topic: "orders/cancelled"))
        #expect(cancel.status == 202, "\(cancel.body)")
        _ = try await harness.waitFor("SHOPIFY-7001", "cancelled") { $0.state == OrderStates.cancelled }
        let timeline = try await harness.timeline("SHOPIFY-7001")
        #expect(timeline.filter { $0.text.hasPrefix("order.created") }.count == 1)

        // A WMS confirmation with a bad signature, and one for a fulfillment order that does not exist.
        let confirmation = #"{"order":"SHOPIFY-7001","fulfillment_order":"SHOPIFY-7001/FO-1"}"#
        expectError(try await post(harness.wmsURL, body: confirmation, headers: [("X-Fulcrum-Hmac-Sha256", "00")]), 401, "bad_signature", "X-Fulcrum-Hmac-Sha256")
        let unknownOrder = try await harness.confirmShipment(order: "NOPE", fulfillmentOrder: "NOPE/FO-1", tracking: "x")
        expectError(unknownOrder, 404, "not_found", "order")
        // Shipping a cancelled order's fulfillment order does not fit it: rejected on its timeline, nothing applied.
        #expect(try await harness.confirmShipment(order: "SHOPIFY-7001", fulfillmentOrder: "SHOPIFY-7001/FO-1", tracking: "x").status == 202)
        var rejected: TimelineEntry?
        let deadline = ContinuousClock.now + .seconds(30)
        while rejected == nil, ContinuousClock.now < deadline {
            rejected = try await harness.timeline("SHOPIFY-7001").last { $0.kind == .rejected }
            if rejected == nil { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(rejected?.code == "transition_not_allowed" || rejected?.code == "unknown_reference", "\(String(describing: rejected))")
        let after = try await harness.order("SHOPIFY-7001")
        #expect(after.failure == nil && after.state == OrderStates.cancelled)
        let verify = try await harness.finish()
        #expect(verify.contains("consistent"), "\(verify)")
    }

    @Test func bigCommerceStyleWebhooksNeedTheirTokenAndAreTakenOnce() async throws {
        let harness = try await ShimHarness()
        let directory = harness.directory
        try """
            version: 1
            provider: bigcommerce
            skus: {BC-CAP: CAP-RED}
            """.write(toFile: directory + "/bigcommerce.yaml", atomically: true, encoding: .utf8)
        let shim = try ChildProcess(builtExecutable("fulcrum"), [
            "shim", "bigcommerce", "--listen", "127.0.0.1:0", "--server", harness.server.address, "--secret", "bc-token",
            "--mapping", directory + "/bigcommerce.yaml", "--json",
        ])
        let url = "http://\(shim.first["listening"]!)/webhook"
        let body = """
            {"scope": "store/order/created", "hash": "h-250", "data": {"type": "order", "id": 250, "order": {
              "products": [{"id": 1, "sku": "BC-CAP", "quantity": 1}],
              "shipping_addresses": [{"state": "IL", "country_iso2": "US", "zip": "60601", "latitude": 41.88, "longitude": -87.63}]}}}
            """
        #expect(try await post(url, body: body, headers: [("X-Webhook-Token", "nope")]).status == 401)
        let accepted = try await post(url, body: body, headers: [("X-Webhook-Token", "bc-token")])
        #expect(accepted.status == 202, "\(accepted.body)")
        #expect(try await post(url, body: body, headers: [("X-Webhook-Token", "bc-token")]).status == 409)
        let reserved = try await harness.waitFor("BC-250", "released") { $0.state == OrderStates.released }
        #expect(reserved.lines.map(\.sku) == ["CAP-RED"])
        #expect(reserved.shipTo.region == "IL")
        shim.stop()
        _ = try await harness.finish()
    }

    @Test func aFileDropImportsEachOrderOnceAndReportsBadRows() async throws {
        let harness = try await ShimHarness()
        let drop = harness.directory + "/drop"
        try FileManager.default.createDirectory(atPath: drop, withIntermediateDirectories: true)
        try """
            order_id,line_id,sku,quantity,latitude,longitude,region,shipping_method
            F-1,1,SHOP-TEE,1,40.7,-74.0,NY,Standard
            F-1,2,SHOP-CAP,2,40.7,-74.0,NY,Standard
            F-2,1,SHOP-UNKNOWN,1,40.7,-74.0,NY,Standard
            F-3,1,SHOP-JEANS,x,40.7,-74.0,NY,Standard
            """.write(toFile: drop + "/orders-1.csv", atomically: true, encoding: .utf8)
        try """
            {"id": "F-4", "lines": [{"id": "1", "sku": "SHOP-JEANS", "quantity": 1}], "ship_to": {"latitude": 34.05, "longitude": -118.24, "region": "CA"}}
            {"id": "F-5", "lines": [{"id": "1", "sku": "SHOP-TEE", "quantity": 1}], "shipping_method": "Overnight"}
            not json
            """.write(toFile: drop + "/orders-2.jsonl", atomically: true, encoding: .utf8)
        let arguments = ["shim", "files", "--watch", drop, "--mapping", harness.directory + "/mapping.yaml", "--server", harness.server.address, "--once", "--json"]
        let first = try await runDetached(builtExecutable("fulcrum"), arguments, timeoutSeconds: 60)
        #expect(first.output.contains(#"{"files":2,"accepted":2,"duplicate":0,"failed":4}"#), "\(first.output)")
        let errors = try String(contentsOfFile: drop + "/orders-1.csv.errors.jsonl", encoding: .utf8)
        #expect(errors.contains(#""code":"unmapped_value""#) && errors.contains(#""path":"F-2: line 4.sku""#), "\(errors)")
        #expect(errors.contains(#""path":"line 5.quantity""#) || errors.contains("F-3"), "\(errors)")
        let jsonErrors = try String(contentsOfFile: drop + "/orders-2.jsonl.errors.jsonl", encoding: .utf8)
        #expect(jsonErrors.contains("unmapped_value") && jsonErrors.contains("invalid_json"), "\(jsonErrors)")
        _ = try await harness.waitFor("F-1", "released") { $0.state == OrderStates.released }
        _ = try await harness.waitFor("F-4", "released") { $0.state == OrderStates.released }

        let again = try await runDetached(builtExecutable("fulcrum"), arguments, timeoutSeconds: 60)
        #expect(again.output.contains(#"{"files":0,"accepted":0,"duplicate":0,"failed":0}"#), "\(again.output)")
        // Without its checkpoint the files are read again, and fulcrumd takes no order twice.
        try FileManager.default.removeItem(atPath: drop + "/" + FileDrop.checkpointName)
        let lost = try await runDetached(builtExecutable("fulcrum"), arguments, timeoutSeconds: 60)
        #expect(lost.output.contains(#"{"files":2,"accepted":0,"duplicate":2,"failed":4}"#), "\(lost.output)")
        _ = try await harness.finish()
    }

    /// A spreadsheet's export: a byte-order mark, CRLF line ends, quoted
    /// fields holding commas, doubled quotes and a line break.
    @Test func aSpreadsheetExportIsReadAsCSV() async throws {
        let harness = try await ShimHarness()
        let drop = harness.directory + "/drop"
        try FileManager.default.createDirectory(atPath: drop, withIntermediateDirectories: true)
        let rows = [
            "order_id,line_id,sku,quantity,latitude,longitude,region,city,shipping_method",
            #"X-1,1,SHOP-TEE,1,37.77,-122.42,CA,"San Francisco, CA",Standard"#,
            "X-1,2,SHOP-CAP,2,37.77,-122.42,CA,\"San Francisco, CA\",Standard",
            "\"X-2\",1,SHOP-JEANS,1,40.7,-74.0,NY,\"New York\nNY \"\"Big Apple\"\"\",Standard",
        ]
        try Data([0xEF, 0xBB, 0xBF] + Array(rows.joined(separator: "\r\n").utf8) + Array("\r\n".utf8))
            .write(to: URL(fileURLWithPath: drop + "/export.csv"))
        let arguments = ["shim", "files", "--watch", drop, "--mapping", harness.directory + "/mapping.yaml", "--server", harness.server.address, "--once", "--json"]
        let imported = try await runDetached(builtExecutable("fulcrum"), arguments, timeoutSeconds: 60)
        #expect(imported.output.contains(#"{"files":1,"accepted":2,"duplicate":0,"failed":0}"#), "\(imported.output)")
        let first = try await harness.waitFor("X-1", "released") { $0.state == OrderStates.released }
        #expect(first.shipTo.city == "San Francisco, CA" && first.lines.count == 2)
        let second = try await harness.waitFor("X-2", "released") { $0.state == OrderStates.released }
        #expect(second.shipTo.city == "New York\nNY \"Big Apple\"")
        _ = try await harness.finish()
    }

    /// Shopify's REST order payload writes coordinates as decimal strings;
    /// they are read as degrees. Text that is not a number is a typed error at
    /// the field, never an address silently left unplaced.
    @Test func shopifyCoordinatesWrittenAsStringsAreRead() throws {
        let translator = ShopifyTranslator(
            mapping: MappingGroup(provider: "shopify", skus: ["SHOP-TEE": "TEE-BLK-M"], shippingMethods: ["Standard": "ground"]))
        let request = try translator.event(topic: "orders/create", body: Data(shopifyOrderAsSent(latitude: #""45.41634""#, longitude: #""-75.6868""#).utf8))
        #expect(request.intake.shipTo.latitude == 45.41634 && request.intake.shipTo.longitude == -75.6868)
        #expect(request.intake.shipTo.hasLatitude && request.intake.shipTo.postalCode == "K2P0V6")
        #expect(request.intake.lines.map(\.sku) == ["TEE-BLK-M"] && request.intake.shippingMethod == "ground")
        #expect(request.intake.channel == "web" && request.intake.attributes["channel"] == nil, "source_name is the sales channel")
        let numbers = try translator.event(topic: "orders/create", body: Data(shopifyOrderAsSent(latitude: "45.41634", longitude: "-75.6868").utf8))
        #expect(numbers.intake.shipTo == request.intake.shipTo)
        let unplaced = try translator.event(topic: "orders/create", body: Data(shopifyOrderAsSent(latitude: "null", longitude: "null").utf8))
        #expect(!unplaced.intake.shipTo.hasLatitude && unplaced.intake.shipTo.city == "Ottawa")
        for (latitude, message) in [(#""north""#, "'north' is not a number of degrees"), (#""nan""#, "'nan' is not a number of degrees"), ("true", "expected a number")] {
            #expect(throws: FulcrumError(.invalidJSON, message, path: "shipping_address.latitude")) {
                _ = try translator.event(topic: "orders/create", body: Data(shopifyOrderAsSent(latitude: latitude, longitude: "1").utf8))
            }
        }
        #expect(throws: FulcrumError(.invalidArgument, "'12,5' is not a number of degrees", path: "line 2.latitude")) {
            _ = try Coordinate(text: "12,5", path: "line 2.latitude")
        }
    }

    /// A shipping line the mapping names as a pickup method makes the order
    /// a pickup at that store (no shipping method); others ship.
    @Test func aShopifyPickupShippingLineMakesAPickupOrder() throws {
        let mapping = try MappingGroup.decode(
            yaml: """
                version: 1
                provider: shopify
                skus: {SHOP-TEE: TEE-BLK-M}
                shipping_methods: {Standard: ground}
                pickup_methods: {"Pickup at Michigan Ave": STORE-CHI}
                curbside_methods: {"Curbside at Michigan Ave": STORE-CHI}
                """, file: "mapping.yaml")
        let translator = ShopifyTranslator(mapping: mapping)
        let body = shopifyOrderAsSent(latitude: "null", longitude: "null")
            .replacingOccurrences(of: #""code": "Standard""#, with: #""code": "Pickup at Michigan Ave""#)
        let pickup = try translator.event(topic: "orders/create", body: Data(body.utf8)).intake
        #expect(pickup.pickupNode == "STORE-CHI" && pickup.shippingMethod.isEmpty && !pickup.curbside)
        let curbside = try translator.event(
            topic: "orders/create", body: Data(body.replacingOccurrences(of: "Pickup at", with: "Curbside at").utf8)).intake
        #expect(curbside.pickupNode == "STORE-CHI" && curbside.curbside)
        let shipped = try translator.event(topic: "orders/create", body: Data(shopifyOrderAsSent(latitude: "1", longitude: "2").utf8)).intake
        #expect(!shipped.hasPickupNode && shipped.shippingMethod == "ground")
    }

    /// Lines counted as a person sees them, quoted line breaks included.
    @Test func csvRecordsKeepTheirLines() throws {
        let text = "a,b\n\"x\ny\",1\n\nlast,2\n"
        let records = try CSVOrders.records(Data(text.utf8))
        #expect(records.map(\.line) == [1, 2, 5])
        #expect(records[1].fields == ["x\ny", "1"])
        #expect(throws: FulcrumError(.invalidArgument, "a quoted field is not closed", path: "line 2")) {
            _ = try CSVOrders.records(Data("a,b\nc,\"unclosed\n".utf8))
        }
    }

    @Test func badJourneyAndMappingFilesStopTheirProcessWithTheFileLineAndField() async throws {
        let directory = temporaryDirectory()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "version: 1\njourneys:\n  - id: j\n    steps:\n      - id: s\n        on: [order.created]\n        filter: \"total > 3\"\n        action: assign_source\n"
            .write(toFile: directory + "/journeys.yaml", atomically: true, encoding: .utf8)
        let server = try await runDetached(
            builtExecutable("fulcrumd"),
            ["serve", "--data", directory + "/data", "--listen", "127.0.0.1:0", "--journeys", directory + "/journeys.yaml", "--json"],
            timeoutSeconds: 30)
        #expect(server.status != 0)
        #expect(server.output.contains("invalid_policy"), "\(server.output)")
        #expect(server.output.contains("journeys.yaml:7:17: journeys[0].steps[0].filter"), "\(server.output)")

        try "version: 1\nprovider: shopify\nskus: {A: \"\"}\n".write(toFile: directory + "/mapping.yaml", atomically: true, encoding: .utf8)
        let shim = try await runDetached(
            builtExecutable("fulcrum"),
            ["shim", "shopify", "--listen", "127.0.0.1:0", "--server", "127.0.0.1:1", "--secret", "s", "--mapping", directory + "/mapping.yaml", "--json"],
            timeoutSeconds: 30)
        #expect(shim.status != 0)
    }
}
