import FulcrumCore

/// The fields a condition may read of an order (and of the event at hand).
public enum OrderFields {
    static let fixed: Set<String> = [
        "id", "source", "state", "shipping_method", "ship_to.region", "ship_to.country", "ship_to.postal_code",
        "ship_to.city", "ship_to.latitude", "ship_to.longitude", "total_quantity", "line_count", "max_line_quantity",
        "skus", "source_node", "source_kind", "profile", "ship_complete", "max_shipments", "priority", "event",
        "fulfillment_order_count", "channel",
    ]
    /// Prefixes of open-ended fields: `attributes.NAME`, `event.NAME`.
    static let prefixes = ["attributes.", "event."]

    /// The fields an execution policy may set.
    public static let settable: Set<String> = [
        "source_node", "source_kind", "profile", "ship_complete", "max_shipments", "priority", "channel",
    ]

    public static func isKnown(_ name: String) -> Bool {
        fixed.contains(name) || prefixes.contains { name.hasPrefix($0) && name.count > $0.count }
    }

    public static func isSettable(_ name: String) -> Bool {
        settable.contains(name) || (name.hasPrefix("attributes.") && name.count > "attributes.".count)
    }

    /// The value of `name` for `order`, with the event's name and fields.
    static func value(_ name: String, of order: OrderRecord, event: String, fields: [String: String]) -> ConditionValue {
        func text(_ value: String?) -> ConditionValue { value.map(ConditionValue.string) ?? .null }
        func number(_ value: Double?) -> ConditionValue { value.map(ConditionValue.number) ?? .null }
        switch name {
        case "id": return .string(order.id)
        case "source": return .string(order.source)
        case "state": return .string(order.state)
        case "shipping_method": return text(order.shippingMethod)
        case "ship_to.region": return text(order.shipTo.region)
        case "ship_to.country": return text(order.shipTo.country)
        case "ship_to.postal_code": return text(order.shipTo.postalCode)
        case "ship_to.city": return text(order.shipTo.city)
        case "ship_to.latitude": return number(order.shipTo.latitude)
        case "ship_to.longitude": return number(order.shipTo.longitude)
        case "total_quantity": return .number(Double(order.totalQuantity))
        case "line_count": return .number(Double(order.lines.count))
        case "max_line_quantity": return .number(Double(order.lines.map(\.quantity).max() ?? 0))
        case "skus": return .list(order.lines.map { .string($0.sku) })
        case "source_node": return text(order.sourceNode)
        case "channel": return text(order.channel)
        case "source_kind": return text(order.sourceKind)
        case "profile": return text(order.profile)
        case "ship_complete": return order.shipComplete.map(ConditionValue.bool) ?? .null
        case "max_shipments": return number(order.maxShipments.map(Double.init))
        case "priority": return number(order.priority)
        case "event": return .string(event)
        case "fulfillment_order_count": return .number(Double(order.fulfillmentOrders.count))
        default:
            if name.hasPrefix("attributes.") { return text(order.attributes[String(name.dropFirst("attributes.".count))]) }
            if name.hasPrefix("event.") { return text(fields[String(name.dropFirst("event.".count))]) }
            return .null
        }
    }
}
