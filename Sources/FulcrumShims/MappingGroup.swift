import Foundation
import FulcrumConfig
import FulcrumCore
import FulcrumWire

/// A provider's tables from its external ids to Fulcrum's: locations (nodes),
/// SKUs and shipping methods. A value with no entry is an `unmapped_value`
/// error naming the field, never passed through or defaulted.
///
///     version: 1
///     provider: shopify
///     skus: {SHOP-TEE-BLACK-M: TEE-BLK-M, "40123": CAP-RED}
///     locations: {"61234": DC-EAST}
///     shipping_methods: {Standard: ground, Express: air}
///     pickup_methods: {"Pickup at Herald Square": STORE-NYC}
///     curbside_methods: {"Curbside at Herald Square": STORE-NYC}
///
/// `pickup_methods`: a shipping line (code, else title) that means the
/// customer collects at a store: the order is a pickup at that node;
/// `curbside_methods` likewise, brought out to the customer's car.
public struct MappingGroup: Sendable, Hashable {
    public var provider: String
    public var skus: [String: String]
    public var locations: [String: String]
    public var shippingMethods: [String: String]
    public var pickupMethods: [String: String]
    public var curbsideMethods: [String: String]

    public init(
        provider: String, skus: [String: String], locations: [String: String] = [:], shippingMethods: [String: String] = [:],
        pickupMethods: [String: String] = [:], curbsideMethods: [String: String] = [:]
    ) {
        self.provider = provider
        self.skus = skus
        self.locations = locations
        self.shippingMethods = shippingMethods
        self.pickupMethods = pickupMethods
        self.curbsideMethods = curbsideMethods
    }

    public static func load(path: String) throws(FulcrumError) -> MappingGroup {
        guard let data = FileManager.default.contents(atPath: path), let yaml = String(data: data, encoding: .utf8) else {
            throw FulcrumError(.invalidMapping, "cannot read the mapping file (missing, or not UTF-8)", path: path)
        }
        return try decode(yaml: yaml, file: path)
    }

    public static func decode(yaml: String, file: String) throws(FulcrumError) -> MappingGroup {
        let document = try Document.parse(yaml: yaml, file: file, code: .invalidMapping)
        let top = try FieldReader(document, path: "", code: .invalidMapping)
        guard try top.requiredInt("version", in: 1...Int.max) == 1 else { throw top.error("version", "only version 1 exists") }
        let group = MappingGroup(
            provider: try top.requiredName("provider"), skus: try table(top, "skus"), locations: try table(top, "locations"),
            shippingMethods: try table(top, "shipping_methods"), pickupMethods: try table(top, "pickup_methods"),
            curbsideMethods: try table(top, "curbside_methods"))
        try top.finish()
        return group
    }

    /// A table of external id → Fulcrum name; each Fulcrum name checked as the ledger checks names.
    private static func table(_ reader: FieldReader, _ key: String) throws(FulcrumError) -> [String: String] {
        guard let mapping = try reader.mapping(key) else { return [:] }
        guard case .mapping(let entries) = mapping.document.value else { return [:] }
        var table: [String: String] = [:]
        for entry in entries { table[entry.key] = try mapping.requiredName(entry.key) }
        try mapping.finish()
        return table
    }

    public func sku(_ external: String, path: String) throws(FulcrumError) -> String {
        try lookup(skus, "skus", external, path)
    }

    public func location(_ external: String, path: String) throws(FulcrumError) -> String {
        try lookup(locations, "locations", external, path)
    }

    public func shippingMethod(_ external: String, path: String) throws(FulcrumError) -> String {
        try lookup(shippingMethods, "shipping_methods", external, path)
    }

    /// The node of a pickup shipping line and whether it is curbside, or nil when the line ships.
    public func pickup(_ external: String) -> (node: String, curbside: Bool)? {
        if let node = curbsideMethods[external] { return (node, true) }
        return pickupMethods[external].map { ($0, false) }
    }

    private func lookup(_ table: [String: String], _ name: String, _ external: String, _ path: String) throws(FulcrumError)
        -> String
    {
        guard let value = table[external] else {
            throw FulcrumError(.unmappedValue, "'\(external)' has no entry in \(provider)'s \(name) mapping", path: path)
        }
        return value
    }
}

extension Fulcrum_V1_Address {
    /// An address as the wire carries it; coordinates only when both are known.
    init(latitude: Coordinate?, longitude: Coordinate?, region: String?, country: String?, postalCode: String?, city: String?) {
        let located = latitude != nil && longitude != nil
        self.init(
            Address(
                latitude: located ? latitude?.degrees : nil, longitude: located ? longitude?.degrees : nil, region: region,
                country: country,
                postalCode: postalCode, city: city))
    }
}

extension Fulcrum_V1_IntakeLine {
    init(id: String, sku: String, quantity: Int64) {
        self.init()
        self.id = id
        self.sku = sku
        self.quantity = quantity
    }
}
