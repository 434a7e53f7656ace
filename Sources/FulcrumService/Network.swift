import Foundation
import FulcrumCore
import FulcrumSolver

/// The nodes a server knows: where they are and what they cost (what ATP
/// `near` sorts by and every live solve ships from), and each node's
/// settings as the network file starts them (changes made at runtime are
/// stored in the ledger and win over these; see `Service.nodeStatuses`).
public struct Network: Sendable, Hashable {
    public let nodes: [Node]
    /// The nodes' ids, kept so that requests on the network skip checking it again.
    public let nodeIDs: Set<String>
    /// Each node's starting settings, by id.
    public let settings: [String: NodeSettings]

    /// `settings` lists the nodes with a time zone or a daily capacity;
    /// the others start in UTC without one, open and shipping as their `Node` says.
    public init(nodes: [Node], settings: [String: NodeSettings] = [:]) {
        self.nodes = nodes
        nodeIDs = Set(nodes.map(\.id))
        var all: [String: NodeSettings] = [:]
        for node in nodes {
            var starting = settings[node.id] ?? NodeSettings()
            starting.enabled = node.enabled
            starting.canShip = node.canShip
            all[node.id] = starting
        }
        self.settings = all
    }

    /// The network file's JSON, one line with sorted keys.
    public func json() -> Data {
        let encoder = JSONEncoder()
        let objects = nodes.map { node -> [String: Any] in
            // Nodes are validated values (finite coordinates): encoding cannot fail.
            var object = try! JSONSerialization.jsonObject(with: try! encoder.encode(node)) as! [String: Any]
            let settings = self.settings[node.id] ?? NodeSettings()
            if settings.timezone != "UTC" { object["timezone"] = settings.timezone }
            if let capacity = settings.capacityPerDay { object["capacity_per_day"] = capacity }
            return object
        }
        return try! JSONSerialization.data(withJSONObject: ["nodes": objects], options: [.sortedKeys])
    }

    /// A network file: `{"nodes": [...]}` with optimize v2 node objects,
    /// each with its daily capacity (`capacity_per_day`) and time zone
    /// (`timezone`) instead of a request's `capacity_units`: the file given
    /// to `fulcrumd serve --network`. Each node is checked as in a request,
    /// so a bad file stops the server at start, not every request later.
    public static func decode(json: Data, path: String) throws(FulcrumError) -> Network {
        let file: NetworkFile
        do {
            file = try decodeJSON(NetworkFile.self, from: json)
        } catch {
            throw FulcrumError(error.code, error.message, path: error.path.isEmpty ? path : "\(path): \(error.path)")
        }
        let nodes = file.nodes.map(\.node)
        _ = try OptimizeRequest.validate(nodes: nodes, path: "\(path): nodes")
        return Network(nodes: nodes, settings: Dictionary(file.nodes.map { ($0.node.id, $0.settings) }) { first, _ in first })
    }

    /// Each node's distance from `point`.
    func distancesKilometers(from point: Location) -> [String: Double] {
        Dictionary(uniqueKeysWithValues: nodes.map { ($0.id, Geography.distanceKilometers(point, $0.location)) })
    }
}
