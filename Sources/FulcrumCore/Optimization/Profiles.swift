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
    /// What a journey's sourcing step does with an order short of stock,
    /// unless the step says (nil: fail).
    public var onShortage: ShortagePolicy?

    public init(
        name: String, rates: Rates = Rates(), rules: Rules = Rules(), strategy: Strategy? = nil,
        timeLimitMilliseconds: Int? = nil, shipComplete: Bool = false, onShortage: ShortagePolicy? = nil
    ) {
        self.name = name
        self.rates = rates
        self.rules = rules
        self.strategy = strategy
        self.timeLimitMilliseconds = timeLimitMilliseconds
        self.shipComplete = shipComplete
        self.onShortage = onShortage
    }
}

/// What an order short of stock does at a journey's sourcing step.
public enum ShortagePolicy: String, Sendable, Hashable {
    /// The step fails (`insufficient_stock`).
    case fail
    /// The order waits whole, nothing reserved, in the backorder queue; it
    /// is sourced again when the stock it lacks is available, first come
    /// first served within priority (`order.backordered`, then `order.reserved`).
    case backorder
    /// What the order lacks is promised units of scheduled receipts
    /// (purchase orders, transfers in transit) with units left, earliest due
    /// first: it waits `preordered`, its stock held, until they arrive, then
    /// goes on reserved (`order.preordered`, then `order.reserved`). When the
    /// receipts cannot cover it, it waits as a backorder.
    case preorder
    /// What stock on hand covers is reserved and goes on at once (`order.reserved`
    /// with `order.partially_backordered`); the rest waits in the backorder
    /// queue and is reserved, a shipment group at a time, as stock arrives.
    /// Ship-complete orders, and orders nothing can be reserved for, wait whole.
    case shipAvailable = "ship_available"
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
    /// The fields it sets, in the contract's words (rates and rules through
    /// their own encoders, which write only what is given).
    public var json: JSON {
        func encoded(_ value: some Encodable) -> JSON { .text(String(decoding: sortedJSON(value), as: UTF8.self)) }
        var fields: [(String, JSON)] = [("name", .string(name))]
        if !rates.given.isEmpty { fields.append(("rates", encoded(rates))) }
        if !rules.given.isEmpty { fields.append(("rules", encoded(rules))) }
        if let strategy { fields.append(("strategy", .string(strategy.rawValue))) }
        if let timeLimitMilliseconds { fields.append(("time_limit_ms", .integer(Int64(timeLimitMilliseconds)))) }
        if shipComplete { fields.append(("ship_complete", .bool(true))) }
        if let onShortage { fields.append(("on_shortage", .string(onShortage.rawValue))) }
        return .orderedObject(fields)
    }
}
