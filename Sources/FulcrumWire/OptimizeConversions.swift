import FulcrumCore

// The optimize contract between its domain values and its wire messages, both
// ways: clients send problems and read solutions; the server reads problems
// and sends solutions. Reading a problem checks what the message's types
// cannot (required coordinates, kinds); `OptimizeRequest.validate()` checks
// the rest, with the same paths as the JSON contract.

extension Fulcrum_V1_Address {
    public init(_ location: Location) {
        self.init()
        latitude = location.latitude
        longitude = location.longitude
        if let region = location.region { self.region = region }
        if let country = location.country { self.country = country }
        if let postalCode = location.postalCode { self.postalCode = postalCode }
        if let city = location.city { self.city = city }
    }

    public init(_ address: Address) {
        self.init()
        if let latitude = address.latitude { self.latitude = latitude }
        if let longitude = address.longitude { self.longitude = longitude }
        if let region = address.region { self.region = region }
        if let country = address.country { self.country = country }
        if let postalCode = address.postalCode { self.postalCode = postalCode }
        if let city = address.city { self.city = city }
    }

    /// The address as an order's intake holds it (coordinates may be
    /// absent; an empty text is an absent one, as proto3 clients send it).
    public var address: Address {
        func text(_ present: Bool, _ value: String) -> String? { present && !value.isEmpty ? value : nil }
        return Address(
            latitude: hasLatitude ? latitude : nil, longitude: hasLongitude ? longitude : nil,
            region: text(hasRegion, region), country: text(hasCountry, country),
            postalCode: text(hasPostalCode, postalCode), city: text(hasCity, city))
    }

    /// The address as the solver needs it: both coordinates, or a country
    /// for the server to place it by.
    func location(path: String) throws(FulcrumError) -> Location {
        if !hasLatitude, !hasLongitude, hasCountry {
            return .unplaced(
                region: hasRegion ? region : nil, country: country, postalCode: hasPostalCode ? postalCode : nil,
                city: hasCity ? city : nil)
        }
        try Self.require(hasLatitude, path: path + ".latitude")
        try Self.require(hasLongitude, path: path + ".longitude")
        return Location(
            latitude: latitude, longitude: longitude, region: hasRegion ? region : nil,
            country: hasCountry ? country : nil, postalCode: hasPostalCode ? postalCode : nil, city: hasCity ? city : nil)
    }

    static func require(_ present: Bool, path: String) throws(FulcrumError) {
        guard present else { throw FulcrumError(.invalidArgument, "a required field is missing", path: path) }
    }
}

extension NodeKind {
    /// A kind as the wire spells it; unknown spellings are `invalid_argument` at `path`.
    init(wire: String, path: String) throws(FulcrumError) {
        guard let kind = NodeKind(rawValue: wire) else {
            throw FulcrumError(.invalidArgument, "kind must be warehouse, store, 3pl or vendor", path: path)
        }
        self = kind
    }
}

extension Fulcrum_V1_OptimizeProblem {
    /// The message of a request; a request without nodes leaves them to the
    /// server's network.
    public init(_ request: OptimizeRequest) {
        self.init()
        orders = request.orders.map { order in
            .with {
                $0.id = order.id
                if order.priority != 1 { $0.priority = order.priority }
                $0.shipTo = Fulcrum_V1_Address(order.shipTo)
                $0.shipComplete = order.shipComplete
                if let maxShipments = order.maxShipments { $0.maxShipments = Int64(maxShipments) }
                if let pickupNode = order.pickupNode { $0.pickupNode = pickupNode }
                $0.lines = order.lines.map { line in
                    .with {
                        $0.id = line.id
                        $0.sku = line.sku
                        $0.quantity = Int64(line.quantity)
                        $0.noSplit = line.noSplit
                    }
                }
            }
        }
        nodes = request.nodes.map(Fulcrum_V1_Node.init)
        skus = request.skus.map(Fulcrum_V1_Sku.init)
        if let inventory = request.inventory {
            self.inventory = .with {
                $0.rows = inventory.map { row in
                    .with {
                        $0.node = row.node
                        $0.sku = row.sku
                        $0.available = Int64(row.available)
                    }
                }
            }
        }
        // Only the fields given: a profile on the server fills in the others.
        if !request.rates.given.isEmpty { rates = Fulcrum_V1_Rates(request.rates) }
        if !request.rules.given.isEmpty { rules = Fulcrum_V1_Rules(request.rules) }
        if let profile = request.profile { self.profile = profile }
        if let channel = request.channel { self.channel = channel }
    }

    /// The request the message carries, not yet validated. Without nodes it
    /// uses `defaultNodes` (the server's network), or fails at `nodes`.
    public func domain(defaultNodes: [Node]?) throws(FulcrumError) -> OptimizeRequest {
        var request = OptimizeRequest(orders: [], nodes: [])
        request.orders.reserveCapacity(orders.count)
        for (index, order) in orders.enumerated() {
            let path = "orders[\(index)]"
            try Fulcrum_V1_Address.require(order.hasShipTo, path: path + ".ship_to")
            request.orders.append(
                Order(
                    id: order.id, priority: order.hasPriority ? order.priority : 1,
                    shipTo: try order.shipTo.location(path: path + ".ship_to"), shipComplete: order.shipComplete,
                    maxShipments: order.hasMaxShipments ? Int(order.maxShipments) : nil,
                    pickupNode: order.hasPickupNode ? order.pickupNode : nil,
                    lines: order.lines.map { Line(id: $0.id, sku: $0.sku, quantity: Int($0.quantity), noSplit: $0.noSplit) }))
        }
        if nodes.isEmpty {
            guard let defaultNodes else {
                throw FulcrumError(.invalidArgument, "no nodes, and the server has no network", path: "nodes")
            }
            request.nodes = defaultNodes
        } else {
            request.nodes.reserveCapacity(nodes.count)
            for (index, node) in nodes.enumerated() { request.nodes.append(try node.domain(path: "nodes[\(index)]")) }
        }
        request.skus = skus.map(\.domain)
        if hasInventory {
            request.inventory = inventory.rows.map { Stock(node: $0.node, sku: $0.sku, available: Int($0.available)) }
        }
        if hasRates { request.rates = rates.domain() }
        if hasRules { request.rules = try rules.domain() }
        if hasProfile { request.profile = profile }
        if hasChannel { request.channel = channel }
        return request
    }
}

extension Fulcrum_V1_Node {
    public init(_ node: Node) {
        self.init()
        id = node.id
        kind = node.kind.rawValue
        latitude = node.location.latitude
        longitude = node.location.longitude
        if let region = node.location.region { self.region = region }
        enabled = node.enabled
        canShip = node.canShip
        costPerShipment = node.costPerShipment
        costPerUnit = node.costPerUnit
        if let capacityUnits = node.capacityUnits { self.capacityUnits = Int64(capacityUnits) }
    }

    func domain(path: String) throws(FulcrumError) -> Node {
        try Fulcrum_V1_Address.require(hasLatitude, path: path + ".latitude")
        try Fulcrum_V1_Address.require(hasLongitude, path: path + ".longitude")
        return Node(
            id: id, kind: hasKind ? try NodeKind(wire: kind, path: path + ".kind") : .warehouse,
            location: Location(latitude: latitude, longitude: longitude, region: hasRegion ? region : nil),
            enabled: hasEnabled ? enabled : true, canShip: hasCanShip ? canShip : true,
            costPerShipment: costPerShipment, costPerUnit: costPerUnit,
            capacityUnits: hasCapacityUnits ? Int(capacityUnits) : nil)
    }
}

extension Fulcrum_V1_Sku {
    public init(_ sku: SKU) {
        self.init()
        id = sku.id
        weightKg = sku.weightKilograms
        if let category = sku.category { self.category = category }
        flags = sku.flags
    }

    /// A weight left out is the contract's 1 kg.
    public var domain: SKU {
        SKU(id: id, weightKilograms: hasWeightKg ? weightKg : 1, category: hasCategory ? category : nil, flags: flags)
    }
}

extension Fulcrum_V1_Rates {
    /// Only the fields given: a profile on the server fills in the others.
    init(_ rates: Rates) {
        self.init()
        if rates.given.contains(.perShipment) { perShipment = rates.perShipment }
        if rates.given.contains(.perKilometer) { perKm = rates.perKilometer }
        if rates.given.contains(.perKilogramKilometer) { perKgKm = rates.perKilogramKilometer }
    }

    func domain() -> Rates {
        Rates(
            perShipment: hasPerShipment ? perShipment : nil, perKilometer: hasPerKm ? perKm : nil,
            perKilogramKilometer: hasPerKgKm ? perKgKm : nil)
    }
}

extension Fulcrum_V1_ProfilesResponse {
    public init(_ profiles: FulfillmentProfiles) {
        self.init()
        source = profiles.source ?? ""
        self.profiles = profiles.names.map { name in
            let profile = profiles.byName[name]!
            return .with {
                $0.name = profile.name
                if !profile.rates.given.isEmpty { $0.rates = Fulcrum_V1_Rates(profile.rates) }
                if !profile.rules.given.isEmpty { $0.rules = Fulcrum_V1_Rules(profile.rules) }
                if let strategy = profile.strategy { $0.strategy = strategy.rawValue }
                if let limit = profile.timeLimitMilliseconds { $0.timeLimitMs = Int64(limit) }
                $0.shipComplete = profile.shipComplete
            }
        }
    }

    /// The profiles the message lists; a strategy this version does not know is `invalid_argument`.
    public func domain() throws(FulcrumError) -> FulfillmentProfiles {
        var list: [FulfillmentProfile] = []
        for (index, profile) in profiles.enumerated() {
            var strategy: Strategy?
            if profile.hasStrategy {
                guard let known = Strategy(rawValue: profile.strategy) else {
                    throw FulcrumError(.invalidArgument, "unknown strategy '\(profile.strategy)'", path: "profiles[\(index)].strategy")
                }
                strategy = known
            }
            list.append(
                FulfillmentProfile(
                    name: profile.name, rates: profile.hasRates ? profile.rates.domain() : Rates(),
                    rules: profile.hasRules ? try profile.rules.domain() : Rules(), strategy: strategy,
                    timeLimitMilliseconds: profile.hasTimeLimitMs ? Int(profile.timeLimitMs) : nil,
                    shipComplete: profile.shipComplete))
        }
        return FulfillmentProfiles(list, source: source.isEmpty ? nil : source)
    }
}

extension Fulcrum_V1_Rules {
    init(_ rules: Rules) {
        self.init()
        if let maxShipments = rules.maxShipmentsPerOrder { maxShipmentsPerOrder = Int64(maxShipments) }
        if let maxDistance = rules.maxDistanceKilometers { maxDistanceKm = maxDistance }
        if rules.given.contains(.backorderPenalty) { backorderPenalty = rules.backorderPenalty }
        if rules.given.contains(.minAvailable) { minAvailable = Int64(rules.minAvailable) }
        if rules.given.contains(.safetyStock) { safetyStock = Int64(rules.safetyStock) }
        excludeGiven = rules.given.contains(.exclude)
        exclude = rules.exclude.map { exclusion in
            .with {
                if let node = exclusion.node { $0.node = node }
                if let kind = exclusion.kind { $0.kind = kind.rawValue }
                if let region = exclusion.region { $0.region = region }
                if let category = exclusion.skuCategory { $0.skuCategory = category }
                if let flag = exclusion.skuFlag { $0.skuFlag = flag }
            }
        }
    }

    func domain() throws(FulcrumError) -> Rules {
        var exclusions: [Exclusion] = []
        for (index, rule) in exclude.enumerated() {
            exclusions.append(
                Exclusion(
                    node: rule.hasNode ? rule.node : nil,
                    kind: rule.hasKind ? try NodeKind(wire: rule.kind, path: "rules.exclude[\(index)].kind") : nil,
                    region: rule.hasRegion ? rule.region : nil, skuCategory: rule.hasSkuCategory ? rule.skuCategory : nil,
                    skuFlag: rule.hasSkuFlag ? rule.skuFlag : nil))
        }
        return Rules(
            maxShipmentsPerOrder: hasMaxShipmentsPerOrder ? Int(maxShipmentsPerOrder) : nil,
            maxDistanceKilometers: hasMaxDistanceKm ? maxDistanceKm : nil,
            backorderPenalty: hasBackorderPenalty ? backorderPenalty : nil,
            minAvailable: hasMinAvailable ? Int(minAvailable) : nil, safetyStock: hasSafetyStock ? Int(safetyStock) : nil,
            exclude: excludeGiven || !exclusions.isEmpty ? exclusions : nil)
    }
}

extension Fulcrum_V1_OptimizeSolution {
    public init(_ response: OptimizeResponse) {
        self.init()
        status = response.status.rawValue
        objective = response.objective
        plans = response.plans.map { plan in
            .with {
                $0.order = plan.order
                $0.shipments = plan.shipments.map { shipment in
                    .with {
                        $0.node = shipment.node
                        $0.distanceKm = shipment.distanceKilometers
                        $0.cost = shipment.cost
                        $0.lines = shipment.lines.map(Fulcrum_V1_LineQuantity.init)
                    }
                }
                $0.backorders = plan.backorders.map(Fulcrum_V1_LineQuantity.init)
                $0.cost = plan.cost
                if let precision = plan.shipToPrecision { $0.shipToPrecision = precision.rawValue }
            }
        }
        stats = .with {
            $0.solveMs = response.statistics.solveMilliseconds
            $0.candidates = Int64(response.statistics.candidates)
            $0.variables = Int64(response.statistics.variables)
            $0.constraints = Int64(response.statistics.constraints)
            $0.gap = response.statistics.gap
        }
        if let explanations = response.explanations {
            explained = true
            self.explanations = explanations.map { order in
                .with {
                    $0.order = order.order
                    $0.nodes = order.nodes.map { node in
                        .with {
                            $0.node = node.node
                            $0.reasons = node.reasons.map(Fulcrum_V1_NodeReason.init)
                        }
                    }
                }
            }
        }
        explanationsIncomplete = response.explanationsIncomplete
    }

    /// The response the message carries; an unknown status or reason is `corrupt`.
    public func domain() throws(FulcrumError) -> OptimizeResponse {
        guard let status = OptimizeResponse.Status(rawValue: status) else {
            throw FulcrumError(.corrupt, "unknown solve status '\(status)'", path: "status")
        }
        var response = OptimizeResponse(
            status: status, objective: objective,
            plans: try plans.map { (plan) throws(FulcrumError) in
                var domain = OptimizeResponse.Plan(
                    order: plan.order,
                    shipments: plan.shipments.map {
                        OptimizeResponse.Shipment(
                            node: $0.node, distanceKilometers: $0.distanceKm, cost: $0.cost, lines: $0.lines.map(\.domain))
                    },
                    backorders: plan.backorders.map(\.domain), cost: plan.cost)
                if plan.hasShipToPrecision {
                    guard let precision = PlacementPrecision(rawValue: plan.shipToPrecision) else {
                        throw FulcrumError(.corrupt, "unknown placement precision '\(plan.shipToPrecision)'", path: "plans.ship_to_precision")
                    }
                    domain.shipToPrecision = precision
                }
                return domain
            },
            statistics: OptimizeResponse.Statistics(
                solveMilliseconds: stats.solveMs, candidates: Int(stats.candidates), variables: Int(stats.variables),
                constraints: Int(stats.constraints), gap: stats.gap))
        if explained {
            var orders: [OrderExplanation] = []
            for order in explanations {
                var nodes: [NodeExplanation] = []
                for node in order.nodes {
                    var reasons: [NodeExplanation.Reason] = []
                    for reason in node.reasons { reasons.append(try reason.domain()) }
                    nodes.append(NodeExplanation(node: node.node, reasons: reasons))
                }
                orders.append(OrderExplanation(order: order.order, nodes: nodes))
            }
            response.explanations = orders
        }
        response.explanationsIncomplete = explanationsIncomplete
        return response
    }
}

extension Fulcrum_V1_LineQuantity {
    init(_ line: OptimizeResponse.LineQuantity) {
        self.init()
        self.line = line.line
        quantity = Int64(line.quantity)
    }

    var domain: OptimizeResponse.LineQuantity { .init(line: line, quantity: Int(quantity)) }
}

extension Fulcrum_V1_NodeReason {
    init(_ reason: NodeExplanation.Reason) {
        self.init()
        switch reason {
        case .moreExpensive(let extra):
            self.reason = extra < 0 ? "cheaper" : "more_expensive"
            extraCost = extra
        case .shipCompleteUnmet: self.reason = "ship_complete_unmet"
        case .unpriced: self.reason = "unpriced"
        case .ineligible(let line, let why):
            self.reason = why.code
            if let line { self.line = line }
            switch why {
            case .excluded(let rule): self.rule = Int64(rule)
            case .tooFar(let distance, let limit):
                distanceKm = distance
                limitKm = limit
            case .tooLittleForNoSplit(let usable): self.usable = Int64(usable)
            case .disabled, .cannotShip, .notThePickupNode, .noUsableStock, .noCapacity: break
            }
        case .returnIneligible(let why):
            `return` = true
            switch why {
            case .disabled: self.reason = "disabled"
            case .doesNotAcceptReturns: self.reason = "does_not_accept_returns"
            case .excluded(let rule):
                self.reason = "excluded"
                self.rule = Int64(rule)
            case .tooFar(let distance, let limit):
                self.reason = "too_far"
                distanceKm = distance
                limitKm = limit
            }
        }
    }

    func domain() throws(FulcrumError) -> NodeExplanation.Reason {
        let line = hasLine ? line : nil
        if `return` {
            switch reason {
            case "disabled": return .returnIneligible(.disabled)
            case "does_not_accept_returns": return .returnIneligible(.doesNotAcceptReturns)
            case "excluded": return .returnIneligible(.excluded(rule: Int(rule)))
            case "too_far": return .returnIneligible(.tooFar(distanceKilometers: distanceKm, limitKilometers: limitKm))
            default: break
            }
        }
        switch reason {
        case "more_expensive", "cheaper": return .moreExpensive(extraCost: extraCost)
        case "ship_complete_unmet": return .shipCompleteUnmet
        case "unpriced": return .unpriced
        case "disabled": return .ineligible(line: line, .disabled)
        case "excluded": return .ineligible(line: line, .excluded(rule: Int(rule)))
        case "cannot_ship": return .ineligible(line: line, .cannotShip)
        case "too_far": return .ineligible(line: line, .tooFar(distanceKilometers: distanceKm, limitKilometers: limitKm))
        case "not_the_pickup_node": return .ineligible(line: line, .notThePickupNode)
        case "no_stock": return .ineligible(line: line, .noUsableStock)
        case "no_capacity": return .ineligible(line: line, .noCapacity)
        case "too_little_for_no_split": return .ineligible(line: line, .tooLittleForNoSplit(usable: Int(usable)))
        default: throw FulcrumError(.corrupt, "unknown explanation reason '\(reason)'", path: "reason")
        }
    }
}
