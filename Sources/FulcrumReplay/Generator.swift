import Foundation
import FulcrumCore

/// A scenario with everything generated made explicit: the SKUs, every
/// starting position and every order, sorted by arrival. The same scenario
/// and seed always give the same expansion, on any machine: the draws come
/// from SplitMix64 and use no platform-specific random algorithm.
public struct ExpandedScenario: Sendable {
    public var scenario: Scenario
    public var skus: [SKU]
    public var positions: [StockPlan.Position]
    public var orders: [ScenarioOrder]

    public init(_ scenario: Scenario) {
        self.scenario = scenario
        let skus = Self.catalogue(scenario)
        self.skus = skus
        let exponent = if case .generated(let model) = scenario.demand { model.zipfExponent } else { 1.0 }
        positions = Self.stock(scenario, skus: skus, zipfExponent: exponent)
        switch scenario.demand {
        case .orders(let orders):
            self.orders = orders.sorted { ($0.arrival, $0.order.id) < ($1.arrival, $1.order.id) }
        case .generated(let model):
            self.orders = Self.orders(scenario, model: model, skus: skus)
        }
    }

    /// Independent streams, so that changing the demand does not change the stock.
    private enum Stream: UInt64 {
        case catalogue = 0x0C47_A10C, stock = 0x0570_C4, demand = 0xDE3A_4D, spikes = 0x5B1C_E5
    }

    private static func draws(_ scenario: Scenario, _ stream: Stream) -> Draws {
        Draws(seed: scenario.seed &* 0x9E37_79B9_7F4A_7C15 ^ stream.rawValue)
    }

    private static func catalogue(_ scenario: Scenario) -> [SKU] {
        var skus = scenario.catalogue.skus
        guard let generated = scenario.catalogue.generated else { return skus }
        var draws = draws(scenario, .catalogue)
        let categories = WeightedChoice(generated.categories.map(\.share))
        for index in 0..<generated.count {
            let category = generated.categories[categories.pick(draws.unit())]
            let weight = category.weightKilograms.lowerBound
                + draws.unit() * (category.weightKilograms.upperBound - category.weightKilograms.lowerBound)
            skus.append(SKU(id: generated.id(index: index), weightKilograms: (weight * 100).rounded() / 100, category: category.name))
        }
        return skus
    }

    private static func stock(_ scenario: Scenario, skus: [SKU], zipfExponent: Double) -> [StockPlan.Position] {
        var draws = draws(scenario, .stock)
        var positions: [PositionKey: StockPlan.Position] = [:]
        var order: [PositionKey] = []
        func put(_ position: StockPlan.Position) {
            let key = PositionKey(node: position.node, sku: position.sku)
            if positions.updateValue(position, forKey: key) == nil { order.append(key) }
        }
        for rule in scenario.stock.rules {
            let top = min(rule.topSKUs ?? skus.count, skus.count)
            let weights = (0..<top).map { 1 / pow(Double($0 + 1), zipfExponent) }
            let total = weights.reduce(0, +)
            for node in scenario.nodes where rule.nodes.contains(node.node.id) || rule.kind == node.node.kind {
                for rank in 0..<top {
                    let jitter = 0.8 + 0.4 * draws.unit()
                    let units = Int((Double(rule.unitsPerNode) * weights[rank] / total * jitter).rounded())
                    put(.init(node: node.node.id, sku: skus[rank].id, onHand: max(rule.minimumUnits, units), safetyStock: rule.safetyStock))
                }
            }
        }
        for position in scenario.stock.positions { put(position) }
        // Positions that only supply events touch start at zero, explicitly:
        // a replay on a server's ledger that held them before starts clean.
        for event in scenario.supply {
            let touched: [(String, String)] =
                switch event.kind {
                case .receipt(let node, let sku, _): [(node, sku)]
                case .transfer(let from, let to, let sku, _, _): [(from, sku), (to, sku)]
                case .adjustment(let node, let sku, _): [(node, sku)]
                case .nodeEnabled: []
                }
            for (node, sku) in touched where positions[PositionKey(node: node, sku: sku)] == nil {
                put(.init(node: node, sku: sku, onHand: 0, safetyStock: 0))
            }
        }
        return order.map { positions[$0]! }
    }

    private static func orders(_ scenario: Scenario, model: DemandModel, skus: [SKU]) -> [ScenarioOrder] {
        var draws = draws(scenario, .demand)
        let popularity = WeightedChoice((0..<skus.count).map { 1 / pow(Double($0 + 1), model.zipfExponent) })
        let hours = WeightedChoice(model.hourlyShape)
        let centres = WeightedChoice(model.centres.map(\.share))
        let lineCounts = WeightedChoice(model.linesPerOrder)
        let unitCounts = WeightedChoice(model.unitsPerLine)
        let weeklyMean = model.weeklyShape.reduce(0, +) / 7
        let stores = scenario.nodes.filter { $0.node.kind == .store }.map(\.node)
        var generated: [ScenarioOrder] = []
        for day in 0..<scenario.days {
            let weekday = CivilDate.weekday(daysSinceEpoch: scenario.start.millisecondsSinceEpoch / Scenario.dayMilliseconds + Int64(day))
            let count = Int(
                (model.ordersPerDay * model.multiplier * model.dayMultipliers[day] * model.weeklyShape[weekday] / weeklyMean)
                    .rounded())
            for _ in 0..<count {
                let minutes = (Double(hours.pick(draws.unit())) + draws.unit()) * 60
                let centre = model.centres[centres.pick(draws.unit())]
                let shipTo = offset(centre.location, kilometers: centre.radiusKilometers * draws.unit().squareRoot(), bearing: draws.unit())
                var lines: [Line] = []
                var chosen = Set<Int>()
                let lineCount = min(lineCounts.pick(draws.unit()) + 1, skus.count)
                var attempts = 0
                // A bounded number of draws: a small catalogue cannot stall an order.
                while lines.count < lineCount, attempts < 64 * lineCount {
                    attempts += 1
                    let rank = popularity.pick(draws.unit())
                    guard chosen.insert(rank).inserted else { continue }
                    lines.append(Line(id: "L\(lines.count + 1)", sku: skus[rank].id, quantity: unitCounts.pick(draws.unit()) + 1))
                }
                var pickup: String?
                if draws.unit() < model.pickupShare {
                    pickup = stores
                        .map { (id: $0.id, distance: Geography.distanceKilometers(shipTo, $0.location)) }
                        .filter { $0.distance <= model.pickupRadiusKilometers }
                        .min { ($0.distance, $0.id) < ($1.distance, $1.id) }?.id
                }
                let abandoned = draws.unit() < model.abandonShare
                generated.append(
                    ScenarioOrder(
                        arrival: scenario.time(day: day, minutes: minutes),
                        order: Order(id: "", shipTo: shipTo, pickupNode: pickup, lines: lines), abandoned: abandoned))
            }
        }
        // Spikes draw from their own stream: the ordinary orders stay the same with or without them.
        var spikeDraws = Self.draws(scenario, .spikes)
        for spike in model.spikes {
            for _ in 0..<spike.orders {
                let centre = model.centres[centres.pick(spikeDraws.unit())]
                let shipTo = offset(centre.location, kilometers: centre.radiusKilometers * spikeDraws.unit().squareRoot(), bearing: spikeDraws.unit())
                generated.append(
                    ScenarioOrder(
                        arrival: scenario.time(day: spike.day, minutes: (Double(spike.hour) + spikeDraws.unit()) * 60),
                        order: Order(id: "", shipTo: shipTo, lines: [Line(id: "L1", sku: spike.sku, quantity: spike.units)]),
                        abandoned: false))
            }
        }
        generated.sort { $0.arrival < $1.arrival }
        let digits = max(6, String(generated.count).count)
        for index in generated.indices {
            let number = String(index + 1)
            generated[index].order.id = "O" + String(repeating: "0", count: digits - number.count) + number
        }
        return generated
    }

    /// The point `kilometers` from `origin` at `bearing` (a fraction of a turn).
    private static func offset(_ origin: Location, kilometers: Double, bearing: Double) -> Location {
        let angle = 2 * Double.pi * bearing
        let latitude = origin.latitude + kilometers / 111.32 * cos(angle)
        let longitude = origin.longitude + kilometers / (111.32 * max(0.01, cos(origin.latitude * .pi / 180))) * sin(angle)
        return Location(
            latitude: min(90, max(-90, latitude)), longitude: min(180, max(-180, longitude)), region: origin.region)
    }
}

/// Uniform draws in [0, 1) from SplitMix64's 53 high bits.
struct Draws {
    private var generator: SplitMix64
    init(seed: UInt64) { generator = SplitMix64(seed: seed) }
    mutating func unit() -> Double { Double(generator.next() >> 11) * 0x1p-53 }
}

/// Picks an index with probability proportional to its weight (inverse CDF).
struct WeightedChoice {
    private let cumulative: [Double]

    init(_ weights: [Double]) {
        precondition(!weights.isEmpty && weights.allSatisfy { $0 >= 0 })
        var sum = 0.0
        cumulative = weights.map { weight in
            sum += weight
            return sum
        }
        precondition(sum > 0, "a weighted choice needs a positive weight")
    }

    /// The index for a uniform draw `unit` in [0, 1).
    func pick(_ unit: Double) -> Int {
        let target = unit * cumulative[cumulative.count - 1]
        var low = 0
        var high = cumulative.count - 1
        while low < high {
            let middle = (low + high) / 2
            if cumulative[middle] > target { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
