import Foundation
import FulcrumCore
import FulcrumWire

/// Shopify's order webhook payload (the fields Fulcrum uses).
struct ShopifyOrder: Decodable {
    struct LineItem: Decodable {
        var id: Int64
        var sku: String?
        var variantId: Int64?
        var quantity: Int64
    }
    struct ShippingAddress: Decodable {
        var latitude: Coordinate?
        var longitude: Coordinate?
        var provinceCode: String?
        var countryCode: String?
        var zip: String?
        var city: String?
    }
    struct ShippingLine: Decodable {
        var code: String?
        var title: String?
    }
    var id: Int64
    var name: String?
    var lineItems: [LineItem]
    var shippingAddress: ShippingAddress?
    var shippingLines: [ShippingLine]?
    var sourceName: String?
    var tags: String?
}

/// Turns Shopify webhooks into business events in Fulcrum's ids.
public struct ShopifyTranslator: Sendable {
    public let mapping: MappingGroup

    public init(mapping: MappingGroup) {
        self.mapping = mapping
    }

    /// Fulcrum's id of a Shopify order.
    public static func orderID(_ shopifyID: Int64) -> String { "SHOPIFY-\(shopifyID)" }

    /// The event for a webhook of `topic` (`orders/create`, `orders/cancelled`).
    public func event(topic: String, body: Data) throws(FulcrumError) -> Fulcrum_V1_SubmitEventRequest {
        let order = try decodeJSON(ShopifyOrder.self, from: body, snakeCase: true)
        var request = Fulcrum_V1_SubmitEventRequest()
        request.order = Self.orderID(order.id)
        request.source = "shopify"
        switch topic {
        case "orders/create":
            request.event = "order.created"
            request.intake = try intake(order)
        case "orders/cancelled":
            request.event = "order.cancel_requested"
        default:
            throw FulcrumError(.invalidArgument, "topic \(topic) is not orders/create or orders/cancelled", path: "X-Shopify-Topic")
        }
        return request
    }

    private func intake(_ order: ShopifyOrder) throws(FulcrumError) -> Fulcrum_V1_OrderIntake {
        var intake = Fulcrum_V1_OrderIntake()
        intake.id = Self.orderID(order.id)
        intake.source = "shopify"
        guard !order.lineItems.isEmpty else {
            throw FulcrumError(.invalidArgument, "the order has no line items", path: "line_items")
        }
        for (index, item) in order.lineItems.enumerated() {
            let external = item.sku.flatMap { $0.isEmpty ? nil : $0 } ?? item.variantId.map(String.init)
            guard let external else {
                throw FulcrumError(.invalidArgument, "the line item has neither sku nor variant_id", path: "line_items[\(index)]")
            }
            let sku = try mapping.sku(external, path: "line_items[\(index)].sku")
            intake.lines.append(.init(id: String(item.id), sku: sku, quantity: item.quantity))
        }
        if let address = order.shippingAddress {
            intake.shipTo = .init(
                latitude: address.latitude, longitude: address.longitude, region: address.provinceCode,
                country: address.countryCode, postalCode: address.zip, city: address.city)
        }
        if let line = order.shippingLines?.first, let code = line.code ?? line.title {
            if let pickup = mapping.pickup(code) ?? line.title.flatMap(mapping.pickup) {
                intake.pickupNode = pickup.node
                intake.curbside = pickup.curbside
            } else {
                intake.shippingMethod = try mapping.shippingMethod(code, path: "shipping_lines[0].code")
            }
        }
        // The sales channel it was sold in: its allocations are reserved first.
        if let source = order.sourceName { intake.channel = source }
        if let name = order.name { intake.attributes["name"] = name }
        if let tags = order.tags, !tags.isEmpty { intake.attributes["tags"] = tags }
        return intake
    }
}
