/// A fulfillment profile: named rates, rules, strategy and time limit that
/// live solves run under (journey steps, optimize requests naming it). Only
/// the fields it sets are `given` in its rates and rules; a request's own
/// fields override them field by field.
public struct FulfillmentProfile: Sendable, Hashable {
    public var name: String
    public var rates: Rates
    public var rules: Rules
    public var strategy: Strategy?
    public var timeLimitMilliseconds: Int?
    /// Every order of a solve under this profile ships complete.
    public var shipComplete: Bool

    public init(
        name: String, rates: Rates = Rates(), rules: Rules = Rules(), strategy: Strategy? = nil,
        timeLimitMilliseconds: Int? = nil, shipComplete: Bool = false
    ) {
        self.name = name
        self.rates = rates
        self.rules = rules
        self.strategy = strategy
        self.timeLimitMilliseconds = timeLimitMilliseconds
        self.shipComplete = shipComplete
    }
}

/// The profiles a server (or the offline CLI) solves under. `default` applies
/// to solves that name none; `standard` is the standard journey's. Both exist
/// always: as the contract's defaults unless a profiles file defines them.
public struct FulfillmentProfiles: Sendable, Hashable {
    public static let defaultName = "default"
    public static let standardName = "standard"
    /// Where they were read from (a file), for operators; nil: built in.
    public let source: String?
    public let byName: [String: FulfillmentProfile]

    public init(_ profiles: [FulfillmentProfile], source: String?) {
        var byName = Dictionary(profiles.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for name in [Self.defaultName, Self.standardName] where byName[name] == nil {
            byName[name] = FulfillmentProfile(name: name)
        }
        self.byName = byName
        self.source = source
    }

    /// Only the built-in `default` and `standard`: the contract's defaults.
    public static let builtIn = FulfillmentProfiles([], source: nil)

    public var names: [String] { byName.keys.sorted() }

    /// The profile `name` names (nil: `default`); `path` names the field in errors.
    public func profile(_ name: String?, path: String) throws(FulcrumError) -> FulfillmentProfile {
        let name = name ?? Self.defaultName
        guard let profile = byName[name] else {
            throw FulcrumError(
                .unknownReference, "no fulfillment profile \(name) is configured (configured: \(names.joined(separator: ", ")))",
                path: path)
        }
        return profile
    }

    /// The request under its profile (`request.profile`, or `default`): the
    /// profile's rates and rules where the request gives none, its strategy
    /// and time limit where the caller chose none.
    public func apply(to request: inout OptimizeRequest, options: inout OptimizeOptions) throws(FulcrumError) {
        let profile = try profile(request.profile, path: "profile")
        request.rates = request.rates.overlaid(on: profile.rates)
        request.rules = request.rules.overlaid(on: profile.rules)
        if profile.shipComplete {
            for index in request.orders.indices { request.orders[index].shipComplete = true }
        }
        if !options.given.contains(.strategy), let strategy = profile.strategy { options.strategy = strategy }
        if !options.given.contains(.timeLimit), let limit = profile.timeLimitMilliseconds {
            options.timeLimitMilliseconds = limit
        }
    }
}

extension FulfillmentProfiles {
    /// `{"source", "profiles": [...]}`, each profile with the fields it sets
    /// (the optimize contract's names): the gateway's and the CLI's answer.
    public var json: JSON {
        .orderedObject([
            ("source", source.map(JSON.string) ?? .null),
            ("profiles", .array(names.map { byName[$0]!.json })),
        ])
    }
}

extension FulfillmentProfile {
    public var json: JSON {
        var fields: [(String, JSON)] = [("name", .string(name))]
        var rateFields: [(String, JSON)] = []
        if rates.given.contains(.perShipment) { rateFields.append(("per_shipment", .number(rates.perShipment))) }
        if rates.given.contains(.perKilometer) { rateFields.append(("per_km", .number(rates.perKilometer))) }
        if rates.given.contains(.perKilogramKilometer) { rateFields.append(("per_kg_km", .number(rates.perKilogramKilometer))) }
        if !rateFields.isEmpty { fields.append(("rates", .orderedObject(rateFields))) }
        var ruleFields: [(String, JSON)] = []
        if let maxShipments = rules.maxShipmentsPerOrder { ruleFields.append(("max_shipments_per_order", .integer(Int64(maxShipments)))) }
        if let maxDistance = rules.maxDistanceKilometers { ruleFields.append(("max_distance_km", .number(maxDistance))) }
        if rules.given.contains(.backorderPenalty) { ruleFields.append(("backorder_penalty", .number(rules.backorderPenalty))) }
        if rules.given.contains(.minAvailable) { ruleFields.append(("min_available", .integer(Int64(rules.minAvailable)))) }
        if rules.given.contains(.safetyStock) { ruleFields.append(("safety_stock", .integer(Int64(rules.safetyStock)))) }
        if rules.given.contains(.exclude) {
            ruleFields.append(
                ("exclude", .array(rules.exclude.map { exclusion in
                    var parts: [(String, JSON)] = []
                    if let node = exclusion.node { parts.append(("node", .string(node))) }
                    if let kind = exclusion.kind { parts.append(("kind", .string(kind.rawValue))) }
                    if let region = exclusion.region { parts.append(("region", .string(region))) }
                    if let category = exclusion.skuCategory { parts.append(("sku_category", .string(category))) }
                    return .orderedObject(parts)
                })))
        }
        if !ruleFields.isEmpty { fields.append(("rules", .orderedObject(ruleFields))) }
        if let strategy { fields.append(("strategy", .string(strategy.rawValue))) }
        if let timeLimitMilliseconds { fields.append(("time_limit_ms", .integer(Int64(timeLimitMilliseconds)))) }
        if shipComplete { fields.append(("ship_complete", .bool(true))) }
        return .orderedObject(fields)
    }
}
