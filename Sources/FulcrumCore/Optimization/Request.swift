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

    public init(
        orders: [Order], nodes: [Node], skus: [SKU] = [], inventory: [Stock]? = nil, rates: Rates = Rates(),
        rules: Rules = Rules(), profile: String? = nil
    ) {
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
    public init(id: String, weightKilograms: Double = 1, category: String? = nil) {
        self.id = id
        self.weightKilograms = weightKilograms
        self.category = category
    }
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

public struct Rates: Sendable, Hashable {
    public var perShipment: Double = 5.0
    public var perKilometer: Double = 0.0
    public var perKilogramKilometer: Double = 0.0005
    public init(perShipment: Double = 5.0, perKilometer: Double = 0.0, perKilogramKilometer: Double = 0.0005) {
        self.perShipment = perShipment
        self.perKilometer = perKilometer
        self.perKilogramKilometer = perKilogramKilometer
    }
}

/// A rule that forbids (line, node) pairs: it matches when every field it
/// gives matches.
public struct Exclusion: Sendable, Hashable {
    public var node: String?
    public var kind: NodeKind?
    public var region: String?
    public var skuCategory: String?
    public init(node: String? = nil, kind: NodeKind? = nil, region: String? = nil, skuCategory: String? = nil) {
        self.node = node
        self.kind = kind
        self.region = region
        self.skuCategory = skuCategory
    }
}

public struct Rules: Sendable, Hashable {
    public var maxShipmentsPerOrder: Int?
    public var maxDistanceKilometers: Double?
    public var backorderPenalty: Double = 1000
    public var minAvailable = 0
    public var safetyStock = 0
    public var exclude: [Exclusion] = []
    public init(
        maxShipmentsPerOrder: Int? = nil, maxDistanceKilometers: Double? = nil, backorderPenalty: Double = 1000,
        minAvailable: Int = 0, safetyStock: Int = 0, exclude: [Exclusion] = []
    ) {
        self.maxShipmentsPerOrder = maxShipmentsPerOrder
        self.maxDistanceKilometers = maxDistanceKilometers
        self.backorderPenalty = backorderPenalty
        self.minAvailable = minAvailable
        self.safetyStock = safetyStock
        self.exclude = exclude
    }
}
