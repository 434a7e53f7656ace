import FulcrumCore

/// A (line, node) pair that may carry units, with its bound and unit cost.
struct Candidate: Sendable {
    var line: Int
    var node: Int
    /// min(line quantity, usable stock, node capacity).
    var upperBound: Int
    var unitCost: Double
}

/// One line of the request, flattened across orders.
struct FlatLine: Sendable {
    var order: Int
    var indexInOrder: Int
    var sku: Int
    var quantity: Int
    var noSplit: Bool
    /// Backorder cost per unit: penalty × the order's priority.
    var backorderCost: Double
}

/// The request with what every strategy shares computed once: distances,
/// usable stock, eligibility and the candidates with their costs.
struct PreparedProblem: Sendable {
    let request: OptimizeRequest
    let lines: [FlatLine]
    /// The lines of each order, as a range of `lines`.
    let linesOfOrder: [Range<Int>]
    /// What ships together from one node, paying one shipment: an order's
    /// lines, but each `ship_alone` line in a parcel of its own.
    let parcelOfLine: [Int]
    let orderOfParcel: [Int]
    let parcelsOfOrder: [[Int]]
    let skuIDs: [String]
    let nodeIndex: [String: Int]
    /// `distances[order][node]`, kilometres.
    let distances: [[Double]]
    /// Usable units, indexed by `stockKey(node:sku:)`.
    let usable: [Int]
    private(set) var candidates: [Candidate] = []
    /// Candidate indices per line, in node order.
    private(set) var candidatesOfLine: [[Int]] = []
    private let weights: [Double]
    /// Each SKU's category and flags, by SKU index: what exclusions match.
    private let traits: [Exclusion.Goods]

    /// Prepares `request` with stock from `availability` (the request's own
    /// inventory, or the ledger's). `pruning` drops dominated nodes; explain
    /// keeps them, to price every node.
    init(_ request: OptimizeRequest, availability: [Stock], pruning: Bool = true) {
        self.request = request
        var skuIndex: [String: Int] = [:]
        var skuIDs: [String] = []
        func index(of sku: String) -> Int {
            if let index = skuIndex[sku] { return index }
            skuIndex[sku] = skuIDs.count
            skuIDs.append(sku)
            return skuIDs.count - 1
        }
        for sku in request.skus { _ = index(of: sku.id) }
        var lines: [FlatLine] = []
        var linesOfOrder: [Range<Int>] = []
        for (orderIndex, order) in request.orders.enumerated() {
            let start = lines.count
            for (lineIndex, line) in order.lines.enumerated() {
                lines.append(
                    FlatLine(
                        order: orderIndex, indexInOrder: lineIndex, sku: index(of: line.sku), quantity: line.quantity,
                        noSplit: line.noSplit, backorderCost: request.rules.backorderPenalty * order.priority))
            }
            linesOfOrder.append(start..<lines.count)
        }
        let described = Dictionary(uniqueKeysWithValues: request.skus.map { ($0.id, $0) })
        weights = skuIDs.map { described[$0]?.weightKilograms ?? 1 }
        traits = skuIDs.map { Exclusion.Goods(category: described[$0]?.category, flags: described[$0]?.flags ?? []) }
        var parcelOfLine: [Int] = []
        var orderOfParcel: [Int] = []
        var parcelsOfOrder: [[Int]] = []
        for (order, range) in linesOfOrder.enumerated() {
            var together: Int?
            var parcels: [Int] = []
            for line in range {
                let parcel: Int
                if traits[lines[line].sku].flags.contains(SKU.shipAloneFlag) {
                    parcel = orderOfParcel.count
                    orderOfParcel.append(order)
                    parcels.append(parcel)
                } else if let together {
                    parcel = together
                } else {
                    parcel = orderOfParcel.count
                    together = parcel
                    orderOfParcel.append(order)
                    parcels.append(parcel)
                }
                parcelOfLine.append(parcel)
            }
            parcelsOfOrder.append(parcels)
        }
        self.parcelOfLine = parcelOfLine
        self.orderOfParcel = orderOfParcel
        self.parcelsOfOrder = parcelsOfOrder
        nodeIndex = Dictionary(uniqueKeysWithValues: request.nodes.enumerated().map { ($1.id, $0) })
        var usable = Array(repeating: 0, count: request.nodes.count * skuIDs.count)
        // Stock usually comes grouped by node in the network's order: the last
        // row's node, or the next, before a hashed look-up.
        var lastNode = 0
        for row in availability {
            guard let sku = skuIndex[row.sku] else { continue }
            let node: Int
            if lastNode < request.nodes.count && request.nodes[lastNode].id == row.node {
                node = lastNode
            } else if lastNode + 1 < request.nodes.count && request.nodes[lastNode + 1].id == row.node {
                node = lastNode + 1
            } else if let found = nodeIndex[row.node] {
                node = found
            } else {
                continue
            }
            lastNode = node
            let rules = request.rules
            let units = row.available < rules.minAvailable ? 0 : max(0, row.available - rules.safetyStock)
            usable[Self.stockKey(node: node, sku: sku, skuCount: skuIDs.count)] = units
        }
        self.lines = lines
        self.linesOfOrder = linesOfOrder
        self.skuIDs = skuIDs
        self.usable = usable
        distances = request.orders.map { order in
            request.nodes.map { Geography.distanceKilometers(order.shipTo, $0.location) }
        }
        var eligible: [[Candidate]] = lines.indices.map { line in
            request.nodes.indices.compactMap { node in
                // Matched, not thrown: most pairs are ineligible, and a thrown error is boxed.
                if case .success(let candidate) = eligibility(line: line, node: node) { candidate } else { nil }
            }
        }
        if pruning { dropDominatedNodes(&eligible) }
        for ofLine in eligible {
            candidatesOfLine.append(Array(candidates.count..<candidates.count + ofLine.count))
            candidates += ofLine
        }
    }

    /// Drops, per order, the candidates of a node that another node dominates:
    /// node m dominates node n for order o when m can fill every line n can,
    /// at a unit cost and a shipment cost no higher, with stock and capacity
    /// for the whole request's demand (so no other use can crowd it out).
    /// Moving n's units to m then never costs more and breaks no rule, so an
    /// optimum without n exists. Ties go to the lower node index.
    private func dropDominatedNodes(_ eligible: inout [[Candidate]]) {
        var demandOfSKU = Array(repeating: 0, count: skuIDs.count)
        for line in lines { demandOfSKU[line.sku] += line.quantity }
        let demand = lines.reduce(0) { $0 + $1.quantity }
        let roomy = request.nodes.map { ($0.capacityUnits ?? Int.max) >= demand }
        // Each node's place among the order's nodes (-1: none), reset after each order.
        var slot = Array(repeating: -1, count: request.nodes.count)
        for (order, range) in linesOfOrder.enumerated() where !isPickup(order: order) {
            // The order's nodes, cheapest shipment first; per node and line its
            // unit cost (infinity: not a candidate) and whether it covers the demand.
            let width = range.count
            var nodes: [Int] = []
            for line in range { for candidate in eligible[line] where slot[candidate.node] < 0 {
                slot[candidate.node] = nodes.count
                nodes.append(candidate.node)
            } }
            defer { for node in nodes { slot[node] = -1 } }
            var unitCosts = Array(repeating: Double.infinity, count: nodes.count * width)
            var covers = Array(repeating: false, count: nodes.count * width)
            for line in range {
                let offset = line - range.lowerBound
                let sku = lines[line].sku
                for candidate in eligible[line] {
                    let index = slot[candidate.node] * width + offset
                    unitCosts[index] = candidate.unitCost
                    covers[index] = usableUnits(node: candidate.node, sku: sku) >= demandOfSKU[sku]
                }
            }
            let shipping = nodes.map { shipmentCost(order: order, node: $0) }
            // Bit masks (orders of up to 64 lines): the lines a node is a candidate
            // for, and those it could take over whole. m can dominate n only if
            // m's cover mask contains n's candidate mask.
            let masked = width <= 64
            var candidateMask = Array(repeating: UInt64(0), count: nodes.count)
            var coverMask = Array(repeating: UInt64(0), count: nodes.count)
            if masked {
                for slot in nodes.indices {
                    for offset in 0..<width where unitCosts[slot * width + offset] < .infinity {
                        candidateMask[slot] |= 1 << offset
                        if covers[slot * width + offset] && roomy[nodes[slot]] { coverMask[slot] |= 1 << offset }
                    }
                }
            }
            let byShipping = nodes.indices.sorted { shipping[$0] != shipping[$1] ? shipping[$0] < shipping[$1] : nodes[$0] < nodes[$1] }
            var isDominated = Array(repeating: false, count: nodes.count)
            var anyDominated = false
            for n in byShipping {
                for m in byShipping {
                    if shipping[m] > shipping[n] { break }
                    guard m != n, roomy[nodes[m]], !isDominated[m] else { continue }
                    if masked && candidateMask[n] & ~coverMask[m] != 0 { continue }
                    var strictlyBetter = shipping[m] < shipping[n]
                    var dominates = true
                    for offset in 0..<width where unitCosts[n * width + offset] < .infinity {
                        let costM = unitCosts[m * width + offset]
                        let costN = unitCosts[n * width + offset]
                        guard costM <= costN, covers[m * width + offset] else {
                            dominates = false
                            break
                        }
                        if costM < costN { strictlyBetter = true }
                    }
                    if dominates && (strictlyBetter || nodes[m] < nodes[n]) {
                        isDominated[n] = true
                        anyDominated = true
                        break
                    }
                }
            }
            if anyDominated {
                for line in range { eligible[line].removeAll { isDominated[slot[$0.node]] } }
            }
        }
    }

    /// The orders in groups that share no resource that could run short: no
    /// (node, SKU) stock and no node capacity that their candidates' bounds
    /// together exceed. The model's rows between groups can never bind, so
    /// the groups' optima together are the batch's optimum. Groups are in
    /// order of their first order, each in request order.
    func independentGroups() -> [[Int]] {
        var parent = Array(request.orders.indices)
        func root(_ order: Int) -> Int {
            var order = order
            while parent[order] != order {
                parent[order] = parent[parent[order]]
                order = parent[order]
            }
            return order
        }
        func join(_ orders: Set<Int>) {
            guard let first = orders.first else { return }
            for order in orders { parent[root(order)] = root(first) }
        }
        var byStock: [Int: (orders: Set<Int>, most: Int)] = [:]
        var byNode: [Int: (orders: Set<Int>, most: Int)] = [:]
        for candidate in candidates {
            let line = lines[candidate.line]
            let key = Self.stockKey(node: candidate.node, sku: line.sku, skuCount: skuIDs.count)
            byStock[key, default: ([], 0)].orders.insert(line.order)
            byStock[key]!.most += candidate.upperBound
            byNode[candidate.node, default: ([], 0)].orders.insert(line.order)
            byNode[candidate.node]!.most += candidate.upperBound
        }
        for (key, use) in byStock where use.orders.count > 1 && use.most > usable[key] { join(use.orders) }
        for (node, use) in byNode where use.orders.count > 1 {
            if let capacity = request.nodes[node].capacityUnits, use.most > capacity { join(use.orders) }
        }
        var groups: [Int: [Int]] = [:]
        for order in request.orders.indices { groups[root(order), default: []].append(order) }
        return groups.values.sorted { $0[0] < $1[0] }
    }

    static func stockKey(node: Int, sku: Int, skuCount: Int) -> Int { node * skuCount + sku }

    /// The same problem with `extra(candidate)` added to each candidate's unit
    /// cost (column generation's pricing: the duals of the rows it uses).
    func repriced(_ extra: (Candidate) -> Double) -> PreparedProblem {
        var copy = self
        for index in copy.candidates.indices { copy.candidates[index].unitCost += extra(copy.candidates[index]) }
        return copy
    }

    func usableUnits(node: Int, sku: Int) -> Int {
        usable[Self.stockKey(node: node, sku: sku, skuCount: skuIDs.count)]
    }

    func isPickup(order: Int) -> Bool { request.orders[order].pickupNode != nil }

    /// The shipment term of the objective for order `order` shipping from `node`.
    func shipmentCost(order: Int, node: Int) -> Double {
        let nodeCost = request.nodes[node].costPerShipment
        if isPickup(order: order) { return nodeCost }
        let rates = request.rates
        return nodeCost + rates.perShipment + rates.perKilometer * distances[order][node]
    }

    /// The unit term of the objective for one unit of `line` from `node`.
    func unitCost(line: Int, node: Int) -> Double {
        let nodeCost = request.nodes[node].costPerUnit
        let order = lines[line].order
        if isPickup(order: order) { return nodeCost }
        return nodeCost + request.rates.perKilogramKilometer * weights[lines[line].sku] * distances[order][node]
    }

    /// The shipment limit of an order: its own, else the rule's; nil: none.
    func maxShipments(order: Int) -> Int? {
        request.orders[order].maxShipments ?? request.rules.maxShipmentsPerOrder
    }

    /// Whether `node` may fill `line`, and with how many units at most.
    func eligibility(line lineIndex: Int, node nodeIndex: Int) -> Result<Candidate, IneligibilityError> {
        let line = lines[lineIndex]
        guard request.nodes[nodeIndex].enabled else { return .failure(.init(.disabled)) }
        if !request.rules.exclude.isEmpty {
            let node = request.nodes[nodeIndex]
            for (rule, exclusion) in request.rules.exclude.enumerated()
            where exclusion.matches(node: node.id, kind: node.kind, region: node.location.region, goods: [traits[line.sku]]) {
                return .failure(.init(.excluded(rule: rule)))
            }
        }
        if let pickup = request.orders[line.order].pickupNode {
            guard pickup == request.nodes[nodeIndex].id else { return .failure(.init(.notThePickupNode)) }
        } else {
            guard request.nodes[nodeIndex].canShip else { return .failure(.init(.cannotShip)) }
            let distance = distances[line.order][nodeIndex]
            if let limit = request.rules.maxDistanceKilometers, distance > limit {
                return .failure(.init(.tooFar(distanceKilometers: distance, limitKilometers: limit)))
            }
        }
        let stock = usableUnits(node: nodeIndex, sku: line.sku)
        guard stock > 0 else { return .failure(.init(.noUsableStock)) }
        let capacity = request.nodes[nodeIndex].capacityUnits ?? Int.max
        guard capacity > 0 else { return .failure(.init(.noCapacity)) }
        let bound = min(line.quantity, stock, capacity)
        if line.noSplit && bound < line.quantity { return .failure(.init(.tooLittleForNoSplit(usable: bound))) }
        return .success(
            Candidate(line: lineIndex, node: nodeIndex, upperBound: bound, unitCost: unitCost(line: lineIndex, node: nodeIndex)))
    }

}

extension Exclusion {
    /// What an exclusion knows of a SKU.
    struct Goods {
        var category: String?
        var flags: [String]
    }

    /// Whether this entry forbids a node for these goods: every field it
    /// gives matches (`sku_category` and `sku_flag`: one of the goods has both).
    func matches(node id: String, kind: NodeKind, region: String?, goods: [Goods]) -> Bool {
        if let node, node != id { return false }
        if let required = self.kind, required != kind { return false }
        if let required = self.region, required != region { return false }
        guard skuCategory != nil || skuFlag != nil else { return true }
        return goods.contains { sku in
            (skuCategory == nil || sku.category == skuCategory) && (skuFlag.map { sku.flags.contains($0) } ?? true)
        }
    }
}

/// `Ineligibility` as an `Error`, for `Result`.
struct IneligibilityError: Error {
    let reason: Ineligibility
    init(_ reason: Ineligibility) { self.reason = reason }
}
