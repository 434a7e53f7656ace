/// An optimize request, contract version 2 (`docs/optimize.md`): orders to source,
/// the nodes that may ship them, SKUs, stock, rates and rules. Every default
/// of the specification is applied when decoding; `validate()` checks the rest.
public struct OptimizeRequest: Sendable, Hashable {
    public var orders: [Order]
    public var nodes: [Node]
    public var skus: [SKU]
    /// Absent: the caller (the server's ledger) supplies availability.
    public var inventory: [Stock]?
    public var rates: Rates
    public var rules: Rules
    /// A fulfillment profile configured on the server (none can be configured yet).
    public var profile: String?
    /// The sales channel the orders come from: the ledger's stock is read as
    /// that channel's ATP (its allocations), and optimize-and-reserve
    /// reserves under it. Absent: no channel (unallocated stock).
    public var channel: String?

    public init(
        orders: [Order], nodes: [Node], skus: [SKU] = [], inventory: [Stock]? = nil, rates: Rates = Rates(),
        rules: Rules = Rules(), profile: String? = nil, channel: String? = nil
    ) {
        self.channel = channel
        self.orders = orders
        self.nodes = nodes
        self.skus = skus
        self.inventory = inventory
        self.rates = rates
        self.rules = rules
        self.profile = profile
    }
}

/// A point on Earth, in degrees, and for a customer's address what else it
/// says (the solver works on the coordinates alone).
public struct Location: Sendable, Hashable {
    public var latitude: Double
    public var longitude: Double
    public var region: String?
    public var country: String?
    public var postalCode: String?
    public var city: String?
    public init(
        latitude: Double, longitude: Double, region: String? = nil, country: String? = nil, postalCode: String? = nil,
        city: String? = nil
    ) {
        self.latitude = latitude
        self.longitude = longitude
        self.region = region
        self.country = country
        self.postalCode = postalCode
        self.city = city
    }

    /// A customer's address given without coordinates (a country at least),
    /// for the server to place before solving (`Service.place`).
    public static func unplaced(region: String? = nil, country: String, postalCode: String? = nil, city: String? = nil) -> Location {
        Location(latitude: .nan, longitude: .nan, region: region, country: country, postalCode: postalCode, city: city)
    }

    /// False for an address waiting to be placed (see `unplaced`).
    public var isPlaced: Bool { !(latitude.isNaN && longitude.isNaN) }

    /// Equal fields; two unplaced addresses' missing coordinates are equal.
    public static func == (lhs: Location, rhs: Location) -> Bool {
        func same(_ a: Double, _ b: Double) -> Bool { a == b || (a.isNaN && b.isNaN) }
        return same(lhs.latitude, rhs.latitude) && same(lhs.longitude, rhs.longitude) && lhs.region == rhs.region
            && lhs.country == rhs.country && lhs.postalCode == rhs.postalCode && lhs.city == rhs.city
    }
}

public struct Order: Sendable, Hashable {
    public var id: String
    public var priority: Double = 1
    public var shipTo: Location
    public var shipComplete = false
    /// Overrides `Rules.maxShipmentsPerOrder`.
    public var maxShipments: Int?
    /// Buy online, pick up in store: only this node may fill it.
    public var pickupNode: String?
    public var lines: [Line]

    public init(
        id: String, priority: Double = 1, shipTo: Location, shipComplete: Bool = false, maxShipments: Int? = nil,
        pickupNode: String? = nil, lines: [Line]
    ) {
        self.id = id
        self.priority = priority
        self.shipTo = shipTo
        self.shipComplete = shipComplete
        self.maxShipments = maxShipments
        self.pickupNode = pickupNode
        self.lines = lines
    }

    public var isPickup: Bool { pickupNode != nil }
}

public struct Line: Sendable, Hashable {
    public var id: String
    public var sku: String
    public var quantity: Int
    /// Filled wholly from one node, or wholly backordered.
    public var noSplit = false
    public init(id: String, sku: String, quantity: Int, noSplit: Bool = false) {
        self.id = id
        self.sku = sku
        self.quantity = quantity
        self.noSplit = noSplit
    }
}

public enum NodeKind: String, Sendable, Hashable, CaseIterable {
    case warehouse, store, thirdParty = "3pl", vendor
}

public struct Node: Sendable, Hashable {
    public var id: String
    public var kind: NodeKind = .warehouse
    public var location: Location
    public var enabled = true
    public var canShip = true
    public var costPerShipment: Double = 0
    public var costPerUnit: Double = 0
    /// Units this node may send in this request; nil: unlimited.
    public var capacityUnits: Int?

    public init(
        id: String, kind: NodeKind = .warehouse, location: Location, enabled: Bool = true, canShip: Bool = true,
        costPerShipment: Double = 0, costPerUnit: Double = 0, capacityUnits: Int? = nil
    ) {
        self.id = id
        self.kind = kind
        self.location = location
        self.enabled = enabled
        self.canShip = canShip
        self.costPerShipment = costPerShipment
        self.costPerUnit = costPerUnit
        self.capacityUnits = capacityUnits
    }
}

public struct SKU: Sendable, Hashable {
    public var id: String
    public var weightKilograms: Double = 1
    public var category: String?
    /// Names rules can match (`sku_flag` exclusions): `hazmat`, `oversize`,
    /// ...; `ship_alone` also makes each line of the SKU a shipment of its own.
    public var flags: [String] = []
    public init(id: String, weightKilograms: Double = 1, category: String? = nil, flags: [String] = []) {
        self.id = id
        self.weightKilograms = weightKilograms
        self.category = category
        self.flags = flags
    }

    /// The flag whose lines ship alone: each in a shipment (a parcel) of its own.
    public static let shipAloneFlag = "ship_alone"
}

public struct Stock: Sendable, Hashable {
    public var node: String
    public var sku: String
    public var available: Int
    public init(node: String, sku: String, available: Int) {
        self.node = node
        self.sku = sku
        self.available = available
    }
}

/// Costs per shipment, kilometre and kilogram-kilometre. `given` says which
/// fields the request (or the profile) wrote: a fulfillment profile fills in
/// the others. Equality compares the prices only.
public struct Rates: Sendable, Hashable {
    public struct Fields: OptionSet, Sendable, Hashable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let perShipment = Fields(rawValue: 1 << 0)
        public static let perKilometer = Fields(rawValue: 1 << 1)
        public static let perKilogramKilometer = Fields(rawValue: 1 << 2)
    }
    public static let defaults = Rates()

    public var perShipment: Double = 5.0 { didSet { given.insert(.perShipment) } }
    public var perKilometer: Double = 0.0 { didSet { given.insert(.perKilometer) } }
    public var perKilogramKilometer: Double = 0.0005 { didSet { given.insert(.perKilogramKilometer) } }
    public private(set) var given: Fields = []

    /// The contract's defaults for the fields left nil (which are not
    /// `given`). Observers do not run in an initializer: `given` is set here.
    public init(perShipment: Double? = nil, perKilometer: Double? = nil, perKilogramKilometer: Double? = nil) {
        if let perShipment {
            self.perShipment = perShipment
            given.insert(.perShipment)
        }
        if let perKilometer {
            self.perKilometer = perKilometer
            given.insert(.perKilometer)
        }
        if let perKilogramKilometer {
            self.perKilogramKilometer = perKilogramKilometer
            given.insert(.perKilogramKilometer)
        }
    }

    /// These rates where given, `base`'s elsewhere.
    public func overlaid(on base: Rates) -> Rates {
        var result = base
        if given.contains(.perShipment) { result.perShipment = perShipment }
        if given.contains(.perKilometer) { result.perKilometer = perKilometer }
        if given.contains(.perKilogramKilometer) { result.perKilogramKilometer = perKilogramKilometer }
        return result
    }

    public static func == (a: Rates, b: Rates) -> Bool {
        (a.perShipment, a.perKilometer, a.perKilogramKilometer) == (b.perShipment, b.perKilometer, b.perKilogramKilometer)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(perShipment)
        hasher.combine(perKilometer)
        hasher.combine(perKilogramKilometer)
    }
}

/// A rule that forbids (line, node) pairs: it matches when every field it
/// gives matches.
public struct Exclusion: Sendable, Hashable {
    public var node: String?
    public var kind: NodeKind?
    public var region: String?
    public var skuCategory: String?
    /// Matches lines whose SKU carries this flag.
    public var skuFlag: String?
    public init(
        node: String? = nil, kind: NodeKind? = nil, region: String? = nil, skuCategory: String? = nil, skuFlag: String? = nil
    ) {
        self.node = node
        self.kind = kind
        self.region = region
        self.skuCategory = skuCategory
        self.skuFlag = skuFlag
    }

    /// An entry giving no field would match every pair and exclude everything: refused.
    public var isEmpty: Bool { node == nil && kind == nil && region == nil && skuCategory == nil && skuFlag == nil }

    /// What an empty entry is told.
    public static let emptyMessage = "an exclusion needs node, kind, region, sku_category or sku_flag"
}

/// The rules of a solve. `given` says which fields the request (or the
/// profile) wrote: a fulfillment profile fills in the others. Equality
/// compares the rules only.
public struct Rules: Sendable, Hashable {
    public struct Fields: OptionSet, Sendable, Hashable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let maxShipmentsPerOrder = Fields(rawValue: 1 << 0)
        public static let maxDistanceKilometers = Fields(rawValue: 1 << 1)
        public static let backorderPenalty = Fields(rawValue: 1 << 2)
        public static let minAvailable = Fields(rawValue: 1 << 3)
        public static let safetyStock = Fields(rawValue: 1 << 4)
        public static let exclude = Fields(rawValue: 1 << 5)
    }

    public var maxShipmentsPerOrder: Int? { didSet { given.insert(.maxShipmentsPerOrder) } }
    public var maxDistanceKilometers: Double? { didSet { given.insert(.maxDistanceKilometers) } }
    public var backorderPenalty: Double = 1000 { didSet { given.insert(.backorderPenalty) } }
    public var minAvailable = 0 { didSet { given.insert(.minAvailable) } }
    public var safetyStock = 0 { didSet { given.insert(.safetyStock) } }
    public var exclude: [Exclusion] = [] { didSet { given.insert(.exclude) } }
    public private(set) var given: Fields = []

    /// The contract's defaults for the fields left nil (which are not
    /// `given`). Observers do not run in an initializer: `given` is set here.
    public init(
        maxShipmentsPerOrder: Int? = nil, maxDistanceKilometers: Double? = nil, backorderPenalty: Double? = nil,
        minAvailable: Int? = nil, safetyStock: Int? = nil, exclude: [Exclusion]? = nil
    ) {
        if let maxShipmentsPerOrder {
            self.maxShipmentsPerOrder = maxShipmentsPerOrder
            given.insert(.maxShipmentsPerOrder)
        }
        if let maxDistanceKilometers {
            self.maxDistanceKilometers = maxDistanceKilometers
            given.insert(.maxDistanceKilometers)
        }
        if let backorderPenalty {
            self.backorderPenalty = backorderPenalty
            given.insert(.backorderPenalty)
        }
        if let minAvailable {
            self.minAvailable = minAvailable
            given.insert(.minAvailable)
        }
        if let safetyStock {
            self.safetyStock = safetyStock
            given.insert(.safetyStock)
        }
        if let exclude {
            self.exclude = exclude
            given.insert(.exclude)
        }
    }

    /// These rules where given, `base`'s elsewhere (an `exclude` list given
    /// replaces the base's).
    public func overlaid(on base: Rules) -> Rules {
        var result = base
        if given.contains(.maxShipmentsPerOrder) { result.maxShipmentsPerOrder = maxShipmentsPerOrder }
        if given.contains(.maxDistanceKilometers) { result.maxDistanceKilometers = maxDistanceKilometers }
        if given.contains(.backorderPenalty) { result.backorderPenalty = backorderPenalty }
        if given.contains(.minAvailable) { result.minAvailable = minAvailable }
        if given.contains(.safetyStock) { result.safetyStock = safetyStock }
        if given.contains(.exclude) { result.exclude = exclude }
        return result
    }

    public static func == (a: Rules, b: Rules) -> Bool {
        a.maxShipmentsPerOrder == b.maxShipmentsPerOrder && a.maxDistanceKilometers == b.maxDistanceKilometers
            && a.backorderPenalty == b.backorderPenalty && a.minAvailable == b.minAvailable
            && a.safetyStock == b.safetyStock && a.exclude == b.exclude
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(maxShipmentsPerOrder)
        hasher.combine(maxDistanceKilometers)
        hasher.combine(backorderPenalty)
        hasher.combine(minAvailable)
        hasher.combine(safetyStock)
        hasher.combine(exclude)
    }
}
