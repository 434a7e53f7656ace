import AsyncHTTPClient
import Foundation
import FulcrumClient
import FulcrumCore
import FulcrumHTTP
import FulcrumOrchestration
import FulcrumShims
import FulcrumTestSupport
import FulcrumWire
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Synchronization
import Testing

/// A fulfillment provider's webhook endpoint in the test process: records
/// what it receives and answers 500 while `failing`.
final class TestReceiver: Sendable {
    struct Received: Sendable {
        var topic: String
        var message: String
        var body: String
        var status: Int
    }
    final class Recorder: Sendable {
        let state = Mutex<(received: [Received], failing: Bool)>(([], false))
    }
    private let recorder = Recorder()
    private let listener: HTTPListener

    var url: String { "http://127.0.0.1:\(listener.port)/hooks" }
    var received: [Received] { recorder.state.withLock { $0.received } }
    func fail(_ failing: Bool) { recorder.state.withLock { $0.failing = failing } }

    init() async throws {
        let recorder = self.recorder
        let router = Router()
        router.post("/hooks") { request, _ in
            let body = try await request.body.collect(upTo: 1 << 20)
            let status = recorder.state.withLock { state in
                let status = state.failing ? 500 : 200
                state.received.append(Received(
                    topic: request.headers[HTTPField.Name("X-Fulcrum-Topic")!] ?? "",
                    message: request.headers[HTTPField.Name("X-Fulcrum-Message-Id")!] ?? "",
                    body: String(buffer: body), status: status))
                return status
            }
            return Response(status: .init(code: status))
        }
        listener = try await HTTPListener.start(
            router: router, host: "127.0.0.1", port: 0, serverName: "receiver", path: "receiver", logger: Logger(label: "receiver"))
    }

    func shutdown() async { await listener.shutdown() }
}

/// Posts to a shim's webhook endpoint.
func post(_ url: String, body: String, headers: [(String, String)]) async throws -> (status: Int, body: String) {
    var request = HTTPClientRequest(url: url)
    request.method = .POST
    for (name, value) in headers { request.headers.add(name: name, value: value) }
    request.body = .bytes(ByteBuffer(string: body))
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
    let answer = try await response.body.collect(upTo: 1 << 20)
    return (Int(response.status.code), String(buffer: answer))
}

/// A Shopify order webhook's body.
func shopifyOrder(_ id: Int64, sku: String = "SHOP-TEE", quantity: Int64 = 2) -> String {
    """
    {"id": \(id), "name": "#\(id)", "line_items": [{"id": \(id * 10), "sku": "\(sku)", "quantity": \(quantity)}],
     "shipping_address": {"latitude": 40.7, "longitude": -74.0, "province_code": "NY", "country_code": "US", "zip": "10001"},
     "shipping_lines": [{"code": "Standard"}], "source_name": "web"}
    """
}

/// An orders/create body with the fields and value types Shopify's REST
/// webhooks carry (money and coordinates as strings, ids as numbers, nulls
/// where a field is empty); `latitude` and `longitude` are JSON as written.
func shopifyOrderAsSent(latitude: String, longitude: String) -> String {
    """
    {"id": 820982911946154508, "admin_graphql_api_id": "gid://shopify/Order/820982911946154508",
     "app_id": null, "browser_ip": null, "buyer_accepts_marketing": true, "cancel_reason": null, "cancelled_at": null,
     "confirmed": true, "contact_email": "jon@example.com", "created_at": "2026-11-30T13:53:06-05:00", "currency": "CAD",
     "current_subtotal_price": "199.00", "financial_status": "paid", "fulfillment_status": null, "name": "#9999",
     "note": null, "order_number": 1234, "processed_at": "2026-11-30T13:53:06-05:00", "source_name": "web", "tags": "",
     "total_price": "209.00", "total_weight": 400, "test": false,
     "total_price_set": {"shop_money": {"amount": "209.00", "currency_code": "CAD"},
                         "presentment_money": {"amount": "209.00", "currency_code": "CAD"}},
     "line_items": [{"id": 866550311766439020, "admin_graphql_api_id": "gid://shopify/LineItem/866550311766439020",
                     "fulfillable_quantity": 1, "fulfillment_service": "manual", "fulfillment_status": null,
                     "gift_card": false, "grams": 200, "name": "Tee - Black / M", "price": "199.00",
                     "product_id": 632910392, "quantity": 1, "requires_shipping": true, "sku": "SHOP-TEE",
                     "taxable": true, "title": "Tee", "variant_id": 808950810, "variant_title": "Black / M",
                     "vendor": null, "properties": [], "tax_lines": [], "discount_allocations": []}],
     "shipping_address": {"first_name": "Jon", "address1": "123 Elgin St", "phone": "555-555-5555", "city": "Ottawa",
                          "zip": "K2P0V6", "province": "Ontario", "country": "Canada", "last_name": "Doe",
                          "address2": null, "company": null, "latitude": \(latitude), "longitude": \(longitude),
                          "name": "Jon Doe", "country_code": "CA", "province_code": "ON"},
     "shipping_lines": [{"id": 271878346596884015, "carrier_identifier": null, "code": "Standard",
                         "discounted_price": "10.00", "price": "10.00", "source": "shopify", "title": "Standard",
                         "tax_lines": []}],
     "customer": {"id": 115310627314723954, "email": "jon@example.com", "first_name": "Jon", "last_name": "Doe"}}
    """
}

func shopifyHeaders(_ body: String, secret: String = ShimHarness.secret, webhook: String, topic: String = "orders/create")
    -> [(String, String)]
{
    [
        ("X-Shopify-Hmac-Sha256", WebhookSignature.base64(Data(body.utf8), secret: secret)),
        ("X-Shopify-Webhook-Id", webhook), ("X-Shopify-Topic", topic),
        ("X-Shopify-Triggered-At", Date().ISO8601Format()),
    ]
}

/// fulcrumd with demo data, and the shims of an order's journey.
final class ShimHarness {
    static let secret = "shopify-secret"
    static let wmsSecret = "wms-secret"
    static let mapping = """
        version: 1
        provider: shopify
        skus: {SHOP-TEE: TEE-BLK-M, SHOP-CAP: CAP-RED, SHOP-JEANS: JEANS-32}
        shipping_methods: {Standard: ground, Express: air}
        curbside_methods: {"Curbside at Michigan Ave": STORE-CHI}
        """

    let directory = temporaryDirectory()
    let data: String
    var server: ServerProcess
    let receiver: TestReceiver
    var shims: [ChildProcess] = []
    let client: FulcrumClient

    init(serverArguments: [String] = ["--demo"], retries: Int = 2) async throws {
        data = directory + "/data"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try Self.mapping.write(toFile: directory + "/mapping.yaml", atomically: true, encoding: .utf8)
        server = try ServerProcess(data: data, arguments: serverArguments)
        receiver = try await TestReceiver()
        client = try await FulcrumClient.connect(server.address)
        try startShims(retries: retries)
    }

    func startShims(retries: Int) throws {
        let fulcrum = builtExecutable("fulcrum")
        shims = [
            try ChildProcess(fulcrum, [
                "shim", "shopify", "--listen", "127.0.0.1:0", "--server", server.address, "--secret", Self.secret,
                "--mapping", directory + "/mapping.yaml", "--json",
            ]),
            try ChildProcess(fulcrum, ["shim", "wms", "--listen", "127.0.0.1:0", "--server", server.address, "--secret", Self.wmsSecret, "--json"]),
            try ChildProcess(fulcrum, [
                "shim", "webhook", "--provider", "fulfillment", "--target", receiver.url, "--server", server.address,
                "--retries", "\(retries)", "--backoff-ms", "20", "--poll-ms", "20", "--json",
            ]),
        ]
    }

    var shopifyURL: String { "http://\(shims[0].first["listening"]!)/webhook" }
    var wmsURL: String { "http://\(shims[1].first["listening"]!)/webhook" }

    func order(_ id: String) async throws -> OrderRecord {
        let answer = try await client.call(.getOrder, Fulcrum_V1_GetOrderRequest.with { $0.order = id }, as: Fulcrum_V1_GetOrderResponse.self)
        return answer.order.domain
    }

    func timeline(_ id: String) async throws -> [TimelineEntry] {
        let answer = try await client.call(.getOrder, Fulcrum_V1_GetOrderRequest.with { $0.order = id }, as: Fulcrum_V1_GetOrderResponse.self)
        return try answer.timeline.map { try $0.domain() }
    }

    /// Polls until `condition` holds for the order (bounded: 30 s).
    func waitFor(_ id: String, _ what: String, _ condition: (OrderRecord) -> Bool) async throws -> OrderRecord {
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            if let order = try? await order(id), condition(order) { return order }
            guard ContinuousClock.now < deadline else {
                Issue.record("order \(id) never got to: \(what) (it is \(String(describing: try? await order(id))))")
                throw CancellationError()
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Confirms a fulfillment order's shipment through the WMS shim.
    func confirmShipment(order: String, fulfillmentOrder: String, tracking: String) async throws -> (status: Int, body: String) {
        let body = #"{"order":"\#(order)","fulfillment_order":"\#(fulfillmentOrder)","tracking":"\#(tracking)"}"#
        return try await post(wmsURL, body: body, headers: [("X-Fulcrum-Hmac-Sha256", WebhookSignature.hex(Data(body.utf8), secret: Self.wmsSecret))])
    }

    /// Stops everything; returns `fulcrum verify`'s output on the data directory.
    func finish() async throws -> String {
        for shim in shims { shim.stop() }
        await client.close()
        await receiver.shutdown()
        server.stop()
        let verify = try await runDetached(builtExecutable("fulcrum"), ["verify", "--data", data], timeoutSeconds: 60)
        try? FileManager.default.removeItem(atPath: directory)
        return verify.output
    }
}
