import Foundation
import FulcrumClient
import FulcrumCore
import FulcrumWire
import FulcrumHTTP
import HTTPTypes
import Logging

/// What a webhook shim does with a request: authenticate it, then act on
/// its body through fulcrumd and say what was done.
public protocol WebhookReceiver: Sendable {
    /// The provider's name, for logs and answers.
    var provider: String { get }
    func authenticate(_ headers: HTTPFields, body: Data, now: Timestamp) throws(FulcrumError)
    /// Acts on an authenticated request; the answer's JSON and status.
    func receive(_ headers: HTTPFields, body: Data, client: FulcrumClient, logger: Logger) async throws(FulcrumError)
        -> (json: JSON, status: HTTPResponse.Status)
}

/// One provider's inbound order webhooks: what makes a request unique (its
/// idempotency key in fulcrumd), and the business event it becomes.
public protocol WebhookIntake: WebhookReceiver {
    func idempotencyKey(_ headers: HTTPFields, body: Data) throws(FulcrumError) -> String
    func event(_ headers: HTTPFields, body: Data) throws(FulcrumError) -> Fulcrum_V1_SubmitEventRequest
}

extension WebhookIntake {
    /// Submits the request's event; 202 with its sequence, `duplicate_id` for a replay.
    public func receive(_ headers: HTTPFields, body: Data, client: FulcrumClient, logger: Logger) async throws(FulcrumError)
        -> (json: JSON, status: HTTPResponse.Status)
    {
        let key = try idempotencyKey(headers, body: body)
        var event = try event(headers, body: body)
        event.idempotencyKey = key
        let answer = try await client.call(.submitEvent, event, as: Fulcrum_V1_SubmitEventResponse.self)
        if answer.duplicate {
            throw FulcrumError(.duplicateID, "this webhook (\(key)) was already received", path: "idempotency_key")
        }
        logger.info("\(provider): \(event.event) for \(event.order) accepted as event \(answer.sequence)")
        return (
            .orderedObject([
                ("event", .string(event.event)), ("order", .string(event.order)), ("sequence", .integer(Int64(answer.sequence))),
            ]), .accepted
        )
    }
}

extension HTTPFields {
    subscript(named name: String) -> String? {
        HTTPField.Name(name).flatMap { self[$0] }
    }
}

/// Shopify's order webhooks: `X-Shopify-Hmac-Sha256` (base64 HMAC-SHA256 of
/// the body with the app's secret), `X-Shopify-Webhook-Id` (a replay has the
/// same id and is refused), `X-Shopify-Triggered-At` (older than
/// `maximumAgeSeconds`: refused), `X-Shopify-Topic`.
public struct ShopifyIntake: WebhookIntake {
    public let provider = "shopify"
    public let secret: String
    public let maximumAgeSeconds: Int64
    public let translator: ShopifyTranslator

    public init(secret: String, maximumAgeSeconds: Int64 = 300, mapping: MappingGroup) {
        self.secret = secret
        self.maximumAgeSeconds = maximumAgeSeconds
        translator = ShopifyTranslator(mapping: mapping)
    }

    public func authenticate(_ headers: HTTPFields, body: Data, now: Timestamp) throws(FulcrumError) {
        try WebhookSignature.verify(
            headers[named: "X-Shopify-Hmac-Sha256"], body: body, secret: secret, encoding: .base64,
            headerName: "X-Shopify-Hmac-Sha256")
        if let triggered = headers[named: "X-Shopify-Triggered-At"] {
            guard let at = try? Date(triggered, strategy: .iso8601) else {
                throw FulcrumError(.invalidArgument, "'\(triggered)' is not an ISO 8601 time", path: "X-Shopify-Triggered-At")
            }
            let ageSeconds = (now.millisecondsSinceEpoch - Int64(at.timeIntervalSince1970 * 1000)) / 1000
            guard ageSeconds <= maximumAgeSeconds else {
                throw FulcrumError(
                    .badSignature, "the webhook is \(ageSeconds) s old; replays older than \(maximumAgeSeconds) s are refused",
                    path: "X-Shopify-Triggered-At")
            }
        }
    }

    public func idempotencyKey(_ headers: HTTPFields, body: Data) throws(FulcrumError) -> String {
        guard let id = headers[named: "X-Shopify-Webhook-Id"], !id.isEmpty else {
            throw FulcrumError(.invalidArgument, "the request has no X-Shopify-Webhook-Id header", path: "X-Shopify-Webhook-Id")
        }
        return "shopify:" + id
    }

    public func event(_ headers: HTTPFields, body: Data) throws(FulcrumError) -> Fulcrum_V1_SubmitEventRequest {
        try translator.event(topic: headers[named: "X-Shopify-Topic"] ?? "orders/create", body: body)
    }
}

/// BigCommerce-style webhooks: `{"scope": "store/order/created", "hash": ...,
/// "data": {"type": "order", "id": N, "order": {...}}}` with the order
/// embedded, authenticated by a shared token in `X-Webhook-Token` (a custom
/// header of the webhook); the payload's `hash` makes a replay recognisable.
public struct BigCommerceIntake: WebhookIntake {
    public let provider = "bigcommerce"
    public let token: String
    public let mapping: MappingGroup

    public init(token: String, mapping: MappingGroup) {
        self.token = token
        self.mapping = mapping
    }

    struct Payload: Decodable {
        struct Data: Decodable {
            var type: String
            var id: Int64
            var order: Order?
        }
        struct Order: Decodable {
            struct Product: Decodable {
                var id: Int64
                var sku: String
                var quantity: Int64
            }
            struct Address: Decodable {
                var state: String?
                var countryIso2: String?
                var zip: String?
                var city: String?
                var latitude: Coordinate?
                var longitude: Coordinate?
                var shippingMethod: String?
            }
            var products: [Product]
            var shippingAddresses: [Address]
            var orderSource: String?
        }
        var scope: String
        var hash: String
        var data: Data
    }

    public func authenticate(_ headers: HTTPFields, body: Data, now: Timestamp) throws(FulcrumError) {
        guard let given = headers[named: "X-Webhook-Token"],
            HTTPErrors.constantTimeEquals(given.utf8, token.utf8)
        else {
            throw FulcrumError(.badSignature, "X-Webhook-Token is missing or wrong", path: "X-Webhook-Token")
        }
    }

    private func payload(_ body: Data) throws(FulcrumError) -> Payload {
        try decodeJSON(Payload.self, from: body, snakeCase: true)
    }

    public func idempotencyKey(_ headers: HTTPFields, body: Data) throws(FulcrumError) -> String {
        let hash = try payload(body).hash
        guard !hash.isEmpty, hash.utf8.count <= 100 else {
            throw FulcrumError(.invalidArgument, "hash must be 1 to 100 bytes", path: "hash")
        }
        return "bigcommerce:" + hash
    }

    public func event(_ headers: HTTPFields, body: Data) throws(FulcrumError) -> Fulcrum_V1_SubmitEventRequest {
        let payload = try payload(body)
        var request = Fulcrum_V1_SubmitEventRequest()
        request.order = "BC-\(payload.data.id)"
        request.source = provider
        switch payload.scope {
        case "store/order/created":
            guard let order = payload.data.order else {
                throw FulcrumError(.invalidArgument, "the webhook carries no order", path: "data.order")
            }
            request.event = "order.created"
            request.intake = try intake(order, id: request.order)
        case "store/order/cancelled":
            request.event = "order.cancel_requested"
        default:
            throw FulcrumError(.invalidArgument, "scope \(payload.scope) is not store/order/created or store/order/cancelled", path: "scope")
        }
        return request
    }

    private func intake(_ order: Payload.Order, id: String) throws(FulcrumError) -> Fulcrum_V1_OrderIntake {
        var intake = Fulcrum_V1_OrderIntake()
        intake.id = id
        intake.source = provider
        for (index, product) in order.products.enumerated() {
            let sku = try mapping.sku(product.sku, path: "data.order.products[\(index)].sku")
            intake.lines.append(.init(id: String(product.id), sku: sku, quantity: product.quantity))
        }
        guard let address = order.shippingAddresses.first else {
            throw FulcrumError(.invalidArgument, "the order has no shipping address", path: "data.order.shipping_addresses")
        }
        intake.shipTo = .init(
            latitude: address.latitude, longitude: address.longitude, region: address.state, country: address.countryIso2,
            postalCode: address.zip, city: address.city)
        if let method = address.shippingMethod {
            intake.shippingMethod = try mapping.shippingMethod(method, path: "data.order.shipping_addresses[0].shipping_method")
        }
        if let source = order.orderSource { intake.channel = source }
        return intake
    }
}

/// A WMS, POS or ERP sending stock: `POST {"source_reference", "lines":
/// [...]}` (the lines of `StockFeed`) signed with `X-Fulcrum-Hmac-Sha256`
/// (hex). Answers 200 with the lines applied, each refused line's typed
/// error and the counts' differences from the ledger; the same body again
/// applies nothing twice (each line is keyed by the reference).
public struct StockIntake: WebhookReceiver {
    public var provider: String { feed.source }
    public let secret: String
    let feed: StockFeed

    public init(secret: String, feed: StockFeed) {
        self.secret = secret
        self.feed = feed
    }

    public func authenticate(_ headers: HTTPFields, body: Data, now: Timestamp) throws(FulcrumError) {
        try WebhookSignature.verify(
            headers[named: "X-Fulcrum-Hmac-Sha256"], body: body, secret: secret, encoding: .hex,
            headerName: "X-Fulcrum-Hmac-Sha256")
    }

    public func receive(_ headers: HTTPFields, body: Data, client: FulcrumClient, logger: Logger) async throws(FulcrumError)
        -> (json: JSON, status: HTTPResponse.Status)
    {
        let (reference, lines) = try feed.parseBody(body)
        let outcome = try await feed.apply(lines, reference: reference, client: client)
        logger.info("\(provider): \(reference): \(outcome.accepted) lines applied, \(outcome.failed) refused")
        return (
            .orderedObject([
                ("source_reference", .string(reference)), ("accepted", .integer(Int64(outcome.accepted))),
                ("failed", .integer(Int64(outcome.failed))), ("errors", .array(outcome.errors.map(\.lineJSON))),
                ("differences", .array(outcome.reports[StockFeed.reconciliationSuffix] ?? [])),
            ]), .ok
        )
    }
}

/// A WMS or 3PL confirming shipments: `POST {"order", "fulfillment_order",
/// "tracking", "carrier"}` signed with `X-Fulcrum-Hmac-Sha256` (hex). One
/// confirmation per fulfillment order is accepted; a repeat is a replay.
public struct ShipmentIntake: WebhookIntake {
    public let provider = "wms"
    public let secret: String

    public init(secret: String) {
        self.secret = secret
    }

    struct Confirmation: Decodable {
        var order: String
        var fulfillmentOrder: String
        var tracking: String?
        var carrier: String?
    }

    private func confirmation(_ body: Data) throws(FulcrumError) -> Confirmation {
        try decodeJSON(Confirmation.self, from: body, snakeCase: true)
    }

    public func authenticate(_ headers: HTTPFields, body: Data, now: Timestamp) throws(FulcrumError) {
        try WebhookSignature.verify(
            headers[named: "X-Fulcrum-Hmac-Sha256"], body: body, secret: secret, encoding: .hex,
            headerName: "X-Fulcrum-Hmac-Sha256")
    }

    public func idempotencyKey(_ headers: HTTPFields, body: Data) throws(FulcrumError) -> String {
        "wms:" + (try confirmation(body).fulfillmentOrder)
    }

    public func event(_ headers: HTTPFields, body: Data) throws(FulcrumError) -> Fulcrum_V1_SubmitEventRequest {
        let confirmation = try confirmation(body)
        var request = Fulcrum_V1_SubmitEventRequest()
        request.event = "fulfillment_order.shipped"
        request.order = confirmation.order
        request.source = provider
        request.fields["fulfillment_order"] = confirmation.fulfillmentOrder
        if let tracking = confirmation.tracking { request.fields["tracking"] = tracking }
        if let carrier = confirmation.carrier { request.fields["carrier"] = carrier }
        return request
    }
}
