import FulcrumCore
import FulcrumLedger
import FulcrumSolver

/// A small retail network with stock: what `fulcrum demo` tours and what
/// `fulcrumd serve --demo` loads into an empty data directory.
public enum DemoData {
    /// Where the demo nodes are, what they cost to ship from, and their time zones.
    public static let network = Network(nodes: [
        Node(id: "DC-EAST", location: Location(latitude: 40.52, longitude: -74.41), costPerShipment: 1, costPerUnit: 0.4),
        Node(id: "DC-WEST", location: Location(latitude: 39.53, longitude: -119.81), costPerShipment: 1, costPerUnit: 0.4),
        Node(id: "DC-CENTRAL", location: Location(latitude: 32.78, longitude: -96.80), costPerShipment: 1, costPerUnit: 0.4),
        Node(id: "STORE-NYC", kind: .store, location: Location(latitude: 40.75, longitude: -73.99), costPerShipment: 4, costPerUnit: 1.5),
        Node(id: "STORE-SF", kind: .store, location: Location(latitude: 37.77, longitude: -122.42), costPerShipment: 4, costPerUnit: 1.5),
        Node(id: "STORE-CHI", kind: .store, location: Location(latitude: 41.88, longitude: -87.63), costPerShipment: 4, costPerUnit: 1.5),
    ], settings: [
        "DC-EAST": NodeSettings(timezone: "America/New_York"), "DC-WEST": NodeSettings(timezone: "America/Los_Angeles"),
        "DC-CENTRAL": NodeSettings(timezone: "America/Chicago"), "STORE-NYC": NodeSettings(timezone: "America/New_York"),
        "STORE-SF": NodeSettings(timezone: "America/Los_Angeles"), "STORE-CHI": NodeSettings(timezone: "America/Chicago"),
    ])
    public static let skus = ["TEE-BLK-M", "TEE-WHT-L", "HOODIE-GRY-M", "JEANS-32", "CAP-RED", "SOCKS-3PK"]

    /// Seeded stock for every (node, SKU), safety stock on one SKU, and one
    /// purchase order per node due in 12 hours. Returns the commands applied.
    @discardableResult
    public static func load(into ledger: some LedgerCommandExecutor, clock: any Clock = SystemClock()) async throws(FulcrumError) -> Int {
        var random = SplitMix64(seed: 42)
        let due = clock.now().adding(seconds: 43_200)
        var commands = 0
        for node in network.nodes.map(\.id) {
            for sku in skus {
                let quantity = Int64.random(in: 0...(node.hasPrefix("DC") ? 500 : 40), using: &random)
                _ = try await ledger.adjust(.init(node: node, sku: sku, change: .set(quantity), reason: "demo stock"))
                commands += 1
            }
            _ = try await ledger.setSafetyStock(.init(node: node, sku: "TEE-BLK-M", quantity: 5))
            let receipt = ScheduledReceipt(receipt: "PO-\(node)", node: node, sku: "TEE-BLK-M", quantity: 100, due: due)
            _ = try await ledger.schedule(.init(receipt))
            commands += 2
        }
        return commands
    }
}
