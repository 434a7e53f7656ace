/// Seeded synthetic workloads on a US network: nodes near population
/// centres (a few DCs, many stores), a catalogue, sparse stock, and orders
/// shipping to people near those centres. For benchmarks, the comparison of
/// strategies, and `fulcrum generate`.
public struct SyntheticWorkload: Sendable {
    /// Population centres: (name, latitude, longitude, region).
    static let centres: [(String, Double, Double, String)] = [
        ("NYC", 40.71, -74.01, "east"), ("LA", 34.05, -118.24, "west"), ("CHI", 41.88, -87.63, "central"),
        ("HOU", 29.76, -95.37, "central"), ("PHX", 33.45, -112.07, "west"), ("PHL", 39.95, -75.17, "east"),
        ("SA", 29.42, -98.49, "central"), ("SD", 32.72, -117.16, "west"), ("DAL", 32.78, -96.80, "central"),
        ("SEA", 47.61, -122.33, "west"), ("DEN", 39.74, -104.99, "west"), ("ATL", 33.75, -84.39, "east"),
        ("MIA", 25.76, -80.19, "east"), ("BOS", 42.36, -71.06, "east"), ("MSP", 44.98, -93.27, "central"),
        ("DET", 42.33, -83.05, "central"), ("POR", 45.52, -122.68, "west"), ("CLT", 35.23, -80.84, "east"),
    ]

    public let nodes: [Node]
    public let skus: [SKU]
    public let inventory: [Stock]
    private var random: SplitMix64

    /// A network of `nodeCount` nodes (one in eight a DC) and `skuCount` SKUs;
    /// each node stocks each SKU with probability `stockedPercent`.
    public init(seed: UInt64, nodeCount: Int, skuCount: Int, stockedPercent: Int = 60) {
        var random = SplitMix64(seed: seed)
        var nodes: [Node] = []
        for index in 0..<nodeCount {
            let (name, latitude, longitude, region) = Self.centres[index % Self.centres.count]
            let isCentre = index % 8 == 0
            nodes.append(
                Node(
                    id: "\(isCentre ? "DC" : "ST")-\(name)-\(index)", kind: isCentre ? .warehouse : .store,
                    location: Location(
                        latitude: latitude + Double.random(in: -1...1, using: &random),
                        longitude: longitude + Double.random(in: -1...1, using: &random), region: region),
                    costPerShipment: isCentre ? 2 : Double.random(in: 3...6, using: &random),
                    costPerUnit: isCentre ? 0.5 : Double.random(in: 0.8...2, using: &random),
                    capacityUnits: isCentre ? nil : Int.random(in: 50...400, using: &random)))
        }
        let skus = (0..<skuCount).map { index in
            SKU(
                id: "SKU-\(index)", weightKilograms: Double.random(in: 0.2...6, using: &random),
                category: ["apparel", "home", "fragile", "bulky"][index % 4])
        }
        var inventory: [Stock] = []
        for node in nodes {
            for sku in skus where Int.random(in: 0..<100, using: &random) < stockedPercent {
                let most = node.kind == .warehouse ? 500 : 25
                inventory.append(Stock(node: node.id, sku: sku.id, available: Int.random(in: 0...most, using: &random)))
            }
        }
        self.nodes = nodes
        self.skus = skus
        self.inventory = inventory
        self.random = random
    }

    /// `orderCount` orders of `linesPerOrder` distinct SKUs each, in one request.
    public mutating func request(orderCount: Int, linesPerOrder: Int, firstOrder: Int = 0) -> OptimizeRequest {
        let orders = (0..<orderCount).map { order(id: "ORD-\(firstOrder + $0)", lines: linesPerOrder) }
        // Only the SKUs the orders name, so a request stays small.
        let named = Set(orders.flatMap { $0.lines.map(\.sku) })
        return OptimizeRequest(
            orders: orders, nodes: nodes, skus: skus.filter { named.contains($0.id) },
            inventory: inventory.filter { named.contains($0.sku) },
            rules: Rules(maxShipmentsPerOrder: 3, backorderPenalty: 100))
    }

    private mutating func order(id: String, lines count: Int) -> Order {
        let (_, latitude, longitude, region) = Self.centres[Int.random(in: 0..<Self.centres.count, using: &random)]
        var chosen = Set<Int>()
        while chosen.count < min(count, skus.count) { chosen.insert(Int.random(in: 0..<skus.count, using: &random)) }
        let lines = chosen.sorted().enumerated().map { index, sku in
            Line(id: "L\(index + 1)", sku: skus[sku].id, quantity: Int.random(in: 1...4, using: &random))
        }
        let shipTo = Location(
            latitude: latitude + Double.random(in: -2...2, using: &random),
            longitude: longitude + Double.random(in: -2...2, using: &random), region: region)
        return Order(id: id, shipTo: shipTo, lines: lines)
    }
}
