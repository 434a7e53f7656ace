import Foundation
import FulcrumCore
import FulcrumSolver

/// The nodes a server knows the location of: what ATP `near` a point sorts by.
public struct Network: Sendable, Hashable {
    public let nodes: [Node]
    /// The nodes' ids, kept so that requests on the network skip checking it again.
    public let nodeIDs: Set<String>

    public init(nodes: [Node]) {
        self.nodes = nodes
        nodeIDs = Set(nodes.map(\.id))
    }

    private struct File: Codable {
        var nodes: [Node]
    }

    /// The network file's JSON, one line with sorted keys.
    public func json() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // Nodes are validated values (finite coordinates): encoding cannot fail.
        return try! encoder.encode(File(nodes: nodes))
    }

    /// A network file: `{"nodes": [...]}` with optimize v2 node objects, e.g.
    /// the file given to `fulcrumd serve --network`. Each node is checked as
    /// in a request, so a bad file stops the server at start, not every
    /// request later.
    public static func decode(json: Data, path: String) throws(FulcrumError) -> Network {
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: json)
        } catch {
            throw FulcrumError(.invalidJSON, "not a network file ({\"nodes\": [...]}): \(error)", path: path)
        }
        _ = try OptimizeRequest.validate(nodes: file.nodes, path: "\(path): nodes")
        return Network(nodes: file.nodes)
    }

    /// Each node's distance from `point`.
    func distancesKilometers(from point: Location) -> [String: Double] {
        Dictionary(uniqueKeysWithValues: nodes.map { ($0.id, Geography.distanceKilometers(point, $0.location)) })
    }
}
