import AsyncHTTPClient
import Foundation
import FulcrumClient
import FulcrumCore
import FulcrumOrchestration
import FulcrumShims
import FulcrumTestSupport
import FulcrumWire
import NIOCore
import Testing

/// Real processes on loopback: fulcrumd, the Shopify, WMS and webhook shims,
/// and a fulfillment provider's endpoint in the test.
@Suite(.serialized) struct ShimEndToEndTests {
    @Test func aShopifyOrderIsReservedSentShippedAndTheLedgerRefolds() async throws {
        let harness = try await ShimHarness()
        let body = shopifyOrder(5001)
        let accepted = try await post(harness.shopifyURL, body: body, headers: shopifyHeaders(body, webhook: "wh-5001"))
        #expect(accepted.status == 202, "\(accepted.body)")
        #expect(accepted.body.contains(#""order":"SHOPIFY-5001""#))

        let sent = try await harness.waitFor("SHOPIFY-5001", "fulfillment orders sent") {
            !$0.fulfillmentOrders.isEmpty && $0.fulfillmentOrders.allSatisfy { $0.state == FulfillmentOrderStates.sent }
        }
        #expect(sent.state == OrderStates.released)
        #expect(sent.shippingMethod == "ground")
        #expect(sent.lines.map(\.sku) == ["TEE-BLK-M"])
        let deliveries = harness.receiver.received
        #expect(deliveries.count == sent.fulfillmentOrders.count)
        #expect(deliveries.allSatisfy { $0.topic == "fulfillment_order.created" && $0.status == 200 && $0.body.contains("SHOPIFY-5001/FO-") })

        for (index, fulfillmentOrder) in sent.fulfillmentOrders.enumerated() {
            let confirmed = try await harness.confirmShipment(order: "SHOPIFY-5001", fulfillmentOrder: fulfillmentOrder.id, tracking: "1Z\(index)")
            #expect(confirmed.status == 202, "\(confirmed.body)")
        }
        let shipped = try await harness.waitFor("SHOPIFY-5001", "shipped") { $0.state == OrderStates.shipped }
        #expect(shipped.fulfillmentOrders.allSatisfy { $0.state == FulfillmentOrderStates.shipped && $0.tracking != nil })
        let reservation = try await harness.client.reservation(order: "SHOPIFY-5001")
        #expect(reservation.state == "shipped")
        let text = try await ShimHarness.orderText(harness, "SHOPIFY-5001")
        #expect(text.contains("order SHOPIFY-5001 (shopify): shipped"))
        #expect(text.contains("released → shipped"))
        let verify = try await harness.finish()
        #expect(verify.contains("consistent"), "\(verify)")
    }

    @Test func aReceiverThatFailsDeadLettersTheMessageAndItsReplayCompletes() async throws {
        let harness = try await ShimHarness(retries: 2)
        harness.receiver.fail(true)
        let body = shopifyOrder(5002, sku: "SHOP-JEANS", quantity: 1)
        #expect(try await post(harness.shopifyURL, body: body, headers: shopifyHeaders(body, webhook: "wh-5002")).status == 202)
        let failed = try await harness.waitFor("SHOPIFY-5002", "failed delivery") { $0.failure != nil }
        #expect(failed.failure?.code == "delivery_failed")
        #expect(failed.failure?.step == "send-to-warehouse")
        #expect(harness.receiver.received.count == 3, "1 attempt + 2 retries")
        #expect(harness.receiver.received.allSatisfy { $0.status == 500 })

        let fulcrum = builtExecutable("fulcrum")
        let letters = try await runDetached(
            fulcrum, ["dead-letters", "--provider", "fulfillment", "--server", harness.server.address, "--json"], timeoutSeconds: 30)
        let listed = try #require(try JSONSerialization.jsonObject(with: Data(letters.output.utf8)) as? [[String: Any]])
        #expect(listed.count == 1)
        #expect((listed.first?["reason"] as? String)?.contains("HTTP 500 after 3 attempts") == true)
        let message = try #require(listed.first?["message"] as? String)

        harness.receiver.fail(false)
        let replay = try await runDetached(
            fulcrum, ["dead-letters", "--provider", "fulfillment", "--replay", message, "--server", harness.server.address], timeoutSeconds: 30)
        #expect(replay.status == 0, "\(replay.output)")
        let sent = try await harness.waitFor("SHOPIFY-5002", "sent after the replay") {
            $0.failure == nil && $0.fulfillmentOrders.allSatisfy { $0.state == FulfillmentOrderStates.sent }
        }
        #expect(sent.state == OrderStates.released)
        #expect(harness.receiver.received.last?.status == 200)
        // Every attempt, before and after the replay, carried the same X-Fulcrum-Message-Id.
        #expect(Set(harness.receiver.received.map(\.message)) == [message])
        let timeline = try await harness.timeline("SHOPIFY-5002")
        #expect(timeline.filter { $0.kind == .action && $0.text.hasPrefix("reserved") }.count == 1, "reserved once")
        #expect(timeline.contains { $0.kind == .reprocess })
        let after = try await runDetached(
            fulcrum, ["dead-letters", "--provider", "fulfillment", "--server", harness.server.address, "--json"], timeoutSeconds: 30)
        #expect(after.output.trimmingCharacters(in: .whitespacesAndNewlines) == "[]")
        let verify = try await harness.finish()
        #expect(verify.contains("consistent"), "\(verify)")
    }

    /// Issue 18's acceptance: a Shopify webhook with its coordinates as
    /// strings is sourced under the standard journey's profile, whose exclusion
    /// and distance limit move it off the nearest warehouse; a profiles file
    /// with a mistake is refused at reload (file:line:column) while the old
    /// profiles keep serving; after SIGHUP with the contract's defaults the
    /// same order ships from where the default profile sends it.
    @Test func aShopifyOrderIsSourcedUnderItsProfileAndProfilesReloadSafely() async throws {
        let directory = temporaryDirectory()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let profiles = directory + "/profiles.yaml"
        try """
            version: 1
            profiles:
              - name: standard
                rules:
                  max_distance_km: 2500
                  exclude: [{node: DC-EAST}, {kind: store}]
            """.write(toFile: profiles, atomically: true, encoding: .utf8)
        let harness = try await ShimHarness(serverArguments: ["--demo", "--profiles", profiles])
        func sourced(_ latitude: String, _ longitude: String, webhook: String) async throws -> OrderRecord {
            let body = shopifyOrderAsSent(latitude: latitude, longitude: longitude).replacingOccurrences(
                of: "820982911946154508", with: webhook)
            let accepted = try await post(harness.shopifyURL, body: body, headers: shopifyHeaders(body, webhook: "wh-\(webhook)"))
            #expect(accepted.status == 202, "\(accepted.body)")
            return try await harness.waitFor("SHOPIFY-\(webhook)", "released") { $0.state == OrderStates.released }
        }
        let first = try await sourced(#""40.7128""#, #""-74.0060""#, webhook: "9001")
        #expect(first.fulfillmentOrders.map(\.node) == ["DC-CENTRAL"])
        #expect(try await harness.timeline("SHOPIFY-9001").contains { $0.text.contains("plan (profile standard)") })

        let fulcrum = builtExecutable("fulcrum")
        try "version: 1\nprofiles:\n  - name: standard\n    rules: {max_distance_km: far}\n"
            .write(toFile: profiles, atomically: true, encoding: .utf8)
        let refused = try await runDetached(fulcrum, ["profiles", "--reload", "--server", harness.server.address, "--json"], timeoutSeconds: 30)
        #expect(refused.status != 0)
        #expect(refused.output.contains("invalid_profiles") && refused.output.contains("profiles.yaml:4:30: profiles[0].rules.max_distance_km"), "\(refused.output)")
        let kept = try await harness.client.profiles()
        #expect(try kept.profile("standard", path: "profile").rules.maxDistanceKilometers == 2500)
        #expect(try await sourced(#""40.7128""#, #""-74.0060""#, webhook: "9002").fulfillmentOrders.map(\.node) == ["DC-CENTRAL"])

        try "version: 1\nprofiles:\n  - name: standard\n".write(toFile: profiles, atomically: true, encoding: .utf8)
        kill(harness.server.process.processIdentifier, SIGHUP)
        let deadline = ContinuousClock.now + .seconds(30)
        while try await harness.client.profiles().profile("standard", path: "profile").rules.maxDistanceKilometers != nil,
            ContinuousClock.now < deadline
        {
            try await Task.sleep(for: .milliseconds(20))
        }
        let listed = try await runDetached(fulcrum, ["profiles", "--server", harness.server.address, "--json"], timeoutSeconds: 30)
        #expect(listed.output.contains(#""name":"standard""#) && !listed.output.contains("max_distance_km"), "\(listed.output)")
        #expect(try await sourced(#""40.7128""#, #""-74.0060""#, webhook: "9003").fulfillmentOrders.map(\.node) == ["DC-EAST"])
        let verify = try await harness.finish()
        #expect(verify.contains("consistent"), "\(verify)")
    }

    /// Issue 18's acceptance: an order with only a postal code and a country
    /// is placed by the gazetteer and sourced, and its timeline says
    /// `postal_code`; one the gazetteer cannot place fails with a typed error
    /// at the address's field.
    @Test func anOrderWithOnlyAPostalCodeIsPlacedAndSourced() async throws {
        let harness = try await ShimHarness()
        func submit(_ id: String, zip: String, country: String) async throws {
            let body = shopifyOrderAsSent(latitude: "null", longitude: "null")
                .replacingOccurrences(of: "820982911946154508", with: id)
                .replacingOccurrences(of: #""zip": "K2P0V6""#, with: #""zip": "\#(zip)""#)
                .replacingOccurrences(of: #""country_code": "CA", "province_code": "ON""#, with: #""country_code": "\#(country)""#)
                .replacingOccurrences(of: #""city": "Ottawa","#, with: "")
            let accepted = try await post(harness.shopifyURL, body: body, headers: shopifyHeaders(body, webhook: "wh-\(id)"))
            #expect(accepted.status == 202, "\(accepted.body)")
        }
        try await submit("9101", zip: "98101", country: "US")
        let placed = try await harness.waitFor("SHOPIFY-9101", "released") { $0.state == OrderStates.released }
        #expect(placed.shipTo.latitude == nil && placed.shipTo.postalCode == "98101")
        // Seattle's ZIP: the west coast warehouse is the cheapest.
        #expect(placed.fulfillmentOrders.map(\.node) == ["DC-WEST"])
        let timeline = try await harness.timeline("SHOPIFY-9101")
        #expect(timeline.contains { $0.text.hasPrefix("ship-to placed by postal_code (98101 (US))") }, "\(timeline.map(\.text))")

        try await submit("9102", zip: "00000", country: "ZZ")
        let failed = try await harness.waitFor("SHOPIFY-9102", "failed") { $0.failure != nil }
        #expect(failed.failure?.code == "invalid_argument")
        let error = try await harness.timeline("SHOPIFY-9102").last { $0.kind == .error }
        #expect(error?.text.hasSuffix("(order:SHOPIFY-9102.ship_to.postal_code)") == true, "\(String(describing: error))")
        let verify = try await harness.finish()
        #expect(verify.contains("consistent"), "\(verify)")
    }

    /// Issue 18's acceptance: a node closed at runtime (CLI) is no longer
    /// chosen and reopening it (HTTP) restores it; a daily capacity used up
    /// moves further orders to the next node, and the node's next local day
    /// frees it. A running server's clock can't be moved, so the next day
    /// comes from the node's time zone: set to one whose date is already
    /// tomorrow (or still yesterday), its counter starts at zero (the
    /// midnight itself is `LiveNetworkTests`', on an injected clock).
    @Test func aLiveNetworkClosesReopensAndFillsNodes() async throws {
        let harness = try await ShimHarness(serverArguments: ["--demo", "--http", "127.0.0.1:0"])
        let fulcrum = builtExecutable("fulcrum")
        var next: Int64 = 9200
        func source() async throws -> [String] {
            next += 1
            let body = shopifyOrder(next)
            let accepted = try await post(harness.shopifyURL, body: body, headers: shopifyHeaders(body, webhook: "wh-\(next)"))
            #expect(accepted.status == 202, "\(accepted.body)")
            return try await harness.waitFor("SHOPIFY-\(next)", "released") { $0.state == OrderStates.released }.fulfillmentOrders.map(\.node)
        }
        func node(_ arguments: [String]) async throws -> [String: Any] {
            let answer = try await runDetached(fulcrum, ["node", "DC-EAST"] + arguments + ["--server", harness.server.address, "--json"], timeoutSeconds: 30)
            #expect(answer.status == 0, "\(answer.output)")
            return try #require(try JSONSerialization.jsonObject(with: Data(answer.output.utf8)) as? [String: Any])
        }
        #expect(try await source() == ["DC-EAST"])

        let closed = try await node(["--enabled", "false", "--reason", "cycle count"])
        #expect(closed["enabled"] as? Bool == false)
        let detour = try await source()
        #expect(!detour.contains("DC-EAST") && !detour.isEmpty)

        var reopen = HTTPClientRequest(url: "http://\(try #require(harness.server.httpAddress))/v1/nodes/DC-EAST")
        reopen.method = .PATCH
        reopen.body = .bytes(ByteBuffer(string: #"{"enabled": true, "capacity_per_day": 6, "reason": "peak"}"#))
        let reopened = try await HTTPClient.shared.execute(reopen, timeout: .seconds(10))
        let reopenedBody = String(buffer: try await reopened.body.collect(upTo: 1 << 20))
        #expect(reopened.status.code == 200 && reopenedBody.contains(#""enabled":true,"can_ship":true,"capacity_per_day":6"#), "\(reopenedBody)")
        #expect(try await source() == ["DC-EAST"])
        // 2 units released for the first order and 2 now: 2 of 6 are left, one more order's worth.
        #expect(try await node([])["capacity_left"] as? Int == 2)
        #expect(try await source() == ["DC-EAST"])
        #expect(try await source() == detour)
        let full = try await node([])
        #expect(full["released_quantity"] as? Int == 6 && full["capacity_left"] as? Int == 0, "\(full)")
        let changes = try #require(full["changes"] as? [[String: Any]])
        #expect(changes.compactMap { $0["change"] as? String } == ["opened, capacity_per_day unlimited → 6", "closed"])
        #expect(changes.compactMap { $0["reason"] as? String } == ["peak", "cycle count"])

        // Whichever of the two zones 26 hours apart is not on New York's date.
        let today = try #require(full["day"] as? String)
        func date(in zone: String) -> String {
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: zone)!
            let parts = calendar.dateComponents([.year, .month, .day], from: Date())
            return String(format: "%04d-%02d-%02d", parts.year!, parts.month!, parts.day!)
        }
        let zone = ["Pacific/Kiritimati", "Etc/GMT+12"].first { date(in: $0) != today }!
        let moved = try await node(["--timezone", zone])
        #expect(moved["day"] as? String != today && moved["released_quantity"] as? Int == 0 && moved["capacity_left"] as? Int == 6, "\(moved)")
        #expect(try await source() == ["DC-EAST"])
        let verify = try await harness.finish()
        #expect(verify.contains("consistent"), "\(verify)")
    }

    /// Issue 18's acceptance: a Shopify order whose shipping line the
    /// mapping names as curbside pickup is reserved at its store only, the
    /// store's message says curbside, and the store's events (sent with
    /// `fulcrum event`) move it through ready for pickup to picked up.
    @Test func aCurbsidePickupIsReservedAtItsStoreAndPickedUp() async throws {
        let harness = try await ShimHarness()
        _ = try await harness.client.adjust(.with {
            $0.node = "STORE-CHI"
            $0.sku = "TEE-BLK-M"
            $0.set = 10
        })
        let body = shopifyOrder(9301, quantity: 1).replacingOccurrences(of: #"{"code": "Standard"}"#, with: #"{"code": "Curbside at Michigan Ave"}"#)
        #expect(try await post(harness.shopifyURL, body: body, headers: shopifyHeaders(body, webhook: "wh-9301")).status == 202)
        let sent = try await harness.waitFor("SHOPIFY-9301", "sent to the store") {
            !$0.fulfillmentOrders.isEmpty && $0.fulfillmentOrders.allSatisfy { $0.state == FulfillmentOrderStates.sent }
        }
        #expect(sent.pickupNode == "STORE-CHI" && sent.curbside == true && sent.fulfillmentOrders.map(\.node) == ["STORE-CHI"])
        #expect(harness.receiver.received.contains { $0.body.contains(#""curbside":true"#) && $0.body.contains("SHOPIFY-9301/FO-1") })
        #expect(try await harness.client.reservation(order: "SHOPIFY-9301").lines.map(\.node) == ["STORE-CHI"])

        let fulcrum = builtExecutable("fulcrum")
        for (event, state) in [("fulfillment_order.prepared_for_pickup", OrderStates.readyForPickup), ("fulfillment_order.picked_up", OrderStates.pickedUp)] {
            let sentEvent = try await runDetached(
                fulcrum, ["event", event, "--order", "SHOPIFY-9301", "--field", "fulfillment_order=SHOPIFY-9301/FO-1", "--server", harness.server.address],
                timeoutSeconds: 30)
            #expect(sentEvent.status == 0, "\(sentEvent.output)")
            _ = try await harness.waitFor("SHOPIFY-9301", state) { $0.state == state }
        }
        #expect(try await harness.client.reservation(order: "SHOPIFY-9301").state == "shipped")
        let verify = try await harness.finish()
        #expect(verify.contains("consistent"), "\(verify)")
    }

    /// Shims outlive fulcrumd's restarts: while it is down, intake answers 503
    /// with Retry-After (the platform retries); a shim started while it is
    /// down waits for it; once it is back both take webhooks again by themselves.
    @Test func shimsKeepServingAcrossAFulcrumdRestart() async throws {
        let harness = try await ShimHarness()
        let body = shopifyOrder(7001)
        #expect(try await post(harness.shopifyURL, body: body, headers: shopifyHeaders(body, webhook: "wh-7001")).status == 202)
        let address = harness.server.address
        await harness.client.close()
        harness.server.stop()

        func postAnswer(_ url: String, _ id: Int64) async throws -> (status: Int, retryAfter: String?) {
            let body = shopifyOrder(id)
            var request = HTTPClientRequest(url: url)
            request.method = .POST
            for (name, value) in shopifyHeaders(body, webhook: "wh-\(id)") { request.headers.add(name: name, value: value) }
            request.body = .bytes(ByteBuffer(string: body))
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
            _ = try await response.body.collect(upTo: 1 << 20)
            return (Int(response.status.code), response.headers.first(name: "Retry-After"))
        }
        let down = try await postAnswer(harness.shopifyURL, 7002)
        #expect(down.status == 503 && down.retryAfter == "1")
        // A shim started while fulcrumd is down comes up and answers 503 too.
        let late = try ChildProcess(builtExecutable("fulcrum"), [
            "shim", "shopify", "--listen", "127.0.0.1:0", "--server", address, "--secret", ShimHarness.secret,
            "--mapping", harness.directory + "/mapping.yaml", "--json",
        ])
        let lateURL = "http://\(late.first["listening"]!)/webhook"
        #expect(try await postAnswer(lateURL, 7003).status == 503)

        harness.server = try ServerProcess(data: harness.data, listen: address, arguments: ["--demo"])
        // Each shim reconnects on its own within its backoff (at most 5 s).
        for (url, id) in [(harness.shopifyURL, Int64(7002)), (lateURL, Int64(7003))] {
            var status = 0
            let deadline = ContinuousClock.now + .seconds(15)
            while status != 202, ContinuousClock.now < deadline {
                status = try await postAnswer(url, id).status
                if status != 202 { try await Task.sleep(for: .milliseconds(200)) }
            }
            #expect(status == 202, "\(url) did not recover")
        }
        late.stop()
        let client = try await FulcrumClient.connect(harness.server.address)
        for order in ["SHOPIFY-7001", "SHOPIFY-7002", "SHOPIFY-7003"] {
            let answer = try await client.call(.getOrder, Fulcrum_V1_GetOrderRequest.with { $0.order = order }, as: Fulcrum_V1_GetOrderResponse.self)
            #expect(answer.order.id == order)
        }
        await client.close()
        for shim in harness.shims { shim.stop() }
        harness.server.stop()
    }

    /// Orders accepted into a batch window, fulcrumd killed before the window
    /// closes: after a restart every order is sourced exactly once.
    @Test func aJourneyResumesAfterKill9WithNoEventLostOrAppliedTwice() async throws {
        let directory = temporaryDirectory()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let journeys = directory + "/journeys.yaml"
        try JourneyBook.standardYAML.replacingOccurrences(
            of: "action: optimize_and_reserve\n", with: "action: optimize_and_reserve\n        batch: {window_ms: 1500, orders_max: 1000}\n"
        ).write(toFile: journeys, atomically: true, encoding: .utf8)
        let data = directory + "/data"
        var server = try ServerProcess(data: data, arguments: ["--demo", "--journeys", journeys])
        var client = try await FulcrumClient.connect(server.address)
        let orders = (1...20).map { "K-\($0)" }
        func created(_ order: String) -> Fulcrum_V1_SubmitEventRequest {
            .with {
                $0.event = "order.created"
                $0.order = order
                $0.idempotencyKey = "intake-\(order)"
                $0.intake = .with {
                    $0.id = order
                    $0.shipTo = .with { $0.latitude = 41.9; $0.longitude = -87.6 }
                    $0.lines = [.with { $0.id = "1"; $0.sku = "SOCKS-3PK"; $0.quantity = 1 }]
                }
            }
        }
        for order in orders {
            let answer = try await client.call(.submitEvent, created(order), as: Fulcrum_V1_SubmitEventResponse.self)
            #expect(!answer.duplicate)
        }
        await client.close()
        server.stop(SIGKILL)

        server = try ServerProcess(data: data, arguments: ["--demo", "--journeys", journeys])
        client = try await FulcrumClient.connect(server.address)
        // A client retrying an acknowledged event after the crash is answered, not applied again.
        let retried = try await client.call(.submitEvent, created("K-1"), as: Fulcrum_V1_SubmitEventResponse.self)
        #expect(retried.duplicate)
        let deadline = ContinuousClock.now + .seconds(30)
        var released = 0
        while released < orders.count, ContinuousClock.now < deadline {
            released = 0
            for order in orders {
                let answer = try await client.call(.getOrder, Fulcrum_V1_GetOrderRequest.with { $0.order = order }, as: Fulcrum_V1_GetOrderResponse.self)
                let record = answer.order.domain
                if record.state == OrderStates.released { released += 1 }
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(released == orders.count)
        for order in orders {
            let answer = try await client.call(.getOrder, Fulcrum_V1_GetOrderRequest.with { $0.order = order }, as: Fulcrum_V1_GetOrderResponse.self)
            let timeline = try answer.timeline.map { try $0.domain() }
            #expect(timeline.filter { $0.text.hasPrefix("order.created") }.count == 1)
            #expect(timeline.filter { $0.kind == .action && $0.text.hasPrefix("reserved") }.count == 1)
            #expect((try await client.reservation(order: order)).state == "confirmed")
        }
        await client.close()
        server.stop()
        let verify = try await runDetached(builtExecutable("fulcrum"), ["verify", "--data", data], timeoutSeconds: 60)
        #expect(verify.output.contains("consistent"), "\(verify.output)")
        // The stored records, decoded without the server: every order released, K-1's timeline in order.
        let dump = try await runDetached(builtExecutable("fulcrum"), ["records", "--data", data, "--kind", "order"], timeoutSeconds: 60)
        let stored = dump.output.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(dump.status == 0 && stored.count == orders.count, "\(dump.output)")
        #expect(stored.allSatisfy { ($0["value"] as? [String: Any])?["state"] as? String == OrderStates.released })
        let lines = try await runDetached(
            builtExecutable("fulcrum"), ["records", "--data", data, "--kind", "timeline", "--owner", "K-1"], timeoutSeconds: 60)
        let entries = lines.output.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(entries.count >= 3 && entries.allSatisfy { $0["order"] as? String == "K-1" }, "\(lines.output)")
        #expect(((entries.first?["value"] as? [String: Any])?["text"] as? String ?? "").hasPrefix("order.created"), "\(lines.output)")
        let sequences = entries.compactMap { $0["sequence"] as? Int }
        #expect(sequences == sequences.sorted())
        let wrong = try await runDetached(builtExecutable("fulcrum"), ["records", "--data", data, "--kind", "orders"], timeoutSeconds: 60)
        #expect(wrong.status != 0)
    }
}

/// kill -9 while journeys are running (no batch window: events are being
/// processed when the process dies), twice, then a clean run to the end:
/// every acknowledged order is sourced exactly once and the ledger refolds.
@Suite(.serialized) struct OrchestrationCrashTests {
    @Test(arguments: [UInt64(11), 29])
    func killedWhileProcessingNoAcknowledgedOrderIsLostOrSourcedTwice(seed: UInt64) async throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let data = directory + "/data"
        var random = SplitMix64(seed: seed)
        var acknowledged: [String] = []
        for round in 0..<3 {
            let server = try ServerProcess(data: data, arguments: ["--demo"])
            let client = try await FulcrumClient.connect(server.address)
            if round == 0 {
                _ = try await client.adjust(.with { $0.node = "DC-EAST"; $0.sku = "SOCKS-3PK"; $0.set = 100_000 })
            }
            let count = round < 2 ? 40 + Int(random.next() % 40) : 10
            // All at once (pipelined), so that a backlog of journeys is running when the kill comes.
            let orders = (0..<count).map { "C\(round)-\($0)" }
            let results = await client.pipeline(orders.map { order in
                (Opcode.submitEvent, Fulcrum_V1_SubmitEventRequest.with {
                    $0.event = "order.created"
                    $0.order = order
                    $0.intake = .with {
                        $0.id = order
                        $0.shipTo = .with { $0.latitude = 40.7; $0.longitude = -74.0 }
                        $0.lines = [.with { $0.id = "1"; $0.sku = "SOCKS-3PK"; $0.quantity = 1 }]
                    }
                }.payload())
            })
            for (order, result) in zip(orders, results) {
                if case .success = result { acknowledged.append(order) }
            }
            #expect(results.allSatisfy { if case .success = $0 { true } else { false } })
            if round < 2 {
                // Journeys of the last orders are still running: die at a seeded moment among them.
                try await Task.sleep(for: .milliseconds(Int64(random.next() % 30)))
                await client.close()
                server.stop(SIGKILL)
                continue
            }
            let deadline = ContinuousClock.now + .seconds(60)
            while try await client.stats().eventsQueued > 0, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            for order in acknowledged {
                let answer = try await client.call(.getOrder, Fulcrum_V1_GetOrderRequest.with { $0.order = order }, as: Fulcrum_V1_GetOrderResponse.self)
                let record = answer.order.domain
                let timeline = try answer.timeline.map { try $0.domain() }
                #expect(record.state == OrderStates.released, "\(order): \(record.state) \(String(describing: record.failure))")
                #expect(timeline.filter { $0.kind == .action && $0.text.hasPrefix("reserved") }.count == 1, "\(order) sourced once")
                #expect(timeline.filter { $0.text.hasPrefix("order.created") }.count == 1, "\(order) accepted once")
                #expect((try await client.reservation(order: order)).state == "confirmed")
            }
            let stats = try await client.stats()
            #expect(stats.reservations == UInt64(acknowledged.count))
            await client.close()
            server.stop()
        }
        let verify = try await runDetached(builtExecutable("fulcrum"), ["verify", "--data", data], timeoutSeconds: 60)
        #expect(verify.output.contains("consistent"), "\(verify.output)")
    }
}

extension ShimHarness {
    static func orderText(_ harness: ShimHarness, _ order: String) async throws -> String {
        try await runDetached(builtExecutable("fulcrum"), ["order", order, "--server", harness.server.address], timeoutSeconds: 30).output
    }
}
