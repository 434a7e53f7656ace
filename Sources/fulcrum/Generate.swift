import FulcrumCore
import ArgumentParser
import Foundation
import FulcrumService

/// `fulcrum generate`: seeded optimize requests on a synthetic US network,
/// one JSON request per line (for `fulcrum optimize --jsonl` and comparisons).
struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Write seeded synthetic optimize requests, one per line.")

    @Option(help: "Random seed.") var seed: UInt64 = 1
    @Option(help: "Requests to write.") var count = 1
    @Option(help: "Orders per request (a batch when more than one).") var orders = 1
    @Option(help: "Lines per order.") var lines = 5
    @Option(help: "Nodes in the network.") var nodes = 100
    @Option(help: "SKUs in the catalogue.") var skus = 200
    @Flag(help: "Write the network instead ({\"nodes\": [...]}, for fulcrumd serve --network).") var network = false

    func validate() throws {
        guard count >= 1, orders >= 1, lines >= 1, nodes >= 1, skus >= lines else {
            throw ValidationError("counts must be at least 1, and --skus at least --lines")
        }
    }

    func run() {
        var workload = SyntheticWorkload(seed: seed, nodeCount: nodes, skuCount: skus)
        if network {
            // A served network's capacity is per local day.
            var settings: [String: NodeSettings] = [:]
            let nodes = workload.nodes.map { node in
                var node = node
                settings[node.id] = NodeSettings(capacityPerDay: node.capacityUnits.map(Int64.init))
                node.capacityUnits = nil
                return node
            }
            print(String(decoding: Network(nodes: nodes, settings: settings).json(), as: UTF8.self))
            return
        }
        for index in 0..<count {
            let request = workload.request(orderCount: orders, linesPerOrder: lines, firstOrder: index * orders)
            print(String(decoding: request.json(), as: UTF8.self))
        }
    }
}
