import Foundation
import FulcrumCore

/// A fulfillment profiles file (`fulcrumd serve --profiles FILE`,
/// `fulcrum optimize --profiles FILE`): for each profile the fields it sets;
/// the rest keep the optimize contract's defaults. `default` applies to solves
/// naming no profile, `standard` to the standard journey.
///
/// ```yaml
/// version: 1
/// profiles:
///   - name: express
///     strategy: optimal          # optimal | greedy-priority | greedy-nearest
///     time_limit_ms: 200
///     ship_complete: true
///     on_shortage: backorder     # journeys: fail (default) | backorder | preorder | ship_available
///     rates: {per_shipment: 8, per_km: 0.01}
///     rules:
///       max_shipments_per_order: 1
///       max_distance_km: 1200
///       exclude: [{kind: store}]
/// ```
public enum ProfilesFile {
    /// `nodeIDs`: the server's network, which exclusions may name (nil:
    /// offline, where each request brings its nodes).
    public static func load(path: String, nodeIDs: Set<String>?) throws(FulcrumError) -> FulfillmentProfiles {
        guard let data = FileManager.default.contents(atPath: path), let yaml = String(data: data, encoding: .utf8) else {
            throw FulcrumError(.invalidProfiles, "cannot read the profiles file (missing, or not UTF-8)", path: path)
        }
        return try decode(yaml: yaml, file: path, nodeIDs: nodeIDs)
    }

    public static func decode(yaml: String, file: String, nodeIDs: Set<String>?) throws(FulcrumError) -> FulfillmentProfiles {
        let document = try Document.parse(yaml: yaml, file: file, code: .invalidProfiles)
        let top = try FieldReader(document, path: "", code: .invalidProfiles)
        guard try top.requiredInt("version", in: 1...Int.max) == 1 else { throw top.error("version", "only version 1 exists") }
        var names = Set<String>()
        let profiles = try top.records("profiles") { (entry) throws(FulcrumError) -> FulfillmentProfile in
            let name = try entry.requiredName("name")
            guard names.insert(name).inserted else { throw entry.error("name", "'\(name)' names two profiles") }
            return FulfillmentProfile(
                name: name,
                rates: try entry.rates("rates") ?? Rates(),
                rules: try entry.rules("rules", nodeIDs: nodeIDs, nodesOf: "the server's network") ?? Rules(),
                strategy: try entry.choice("strategy", Strategy.self),
                timeLimitMilliseconds: try entry.int("time_limit_ms", in: 1...Limits.solveTimeLimitMsMax),
                shipComplete: try entry.bool("ship_complete") ?? false,
                onShortage: try entry.choice("on_shortage", ShortagePolicy.self))
        }
        try top.finish()
        if profiles.isEmpty { throw top.error("profiles", "must list at least one profile") }
        return FulfillmentProfiles(profiles, source: file)
    }
}
