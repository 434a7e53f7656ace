import FulcrumConfig
import FulcrumCore
import FulcrumOrchestration

/// Fulfillment profiles: what live solves run under, reloadable at runtime.
extension Service {
    /// The profiles in force.
    public var profiles: FulfillmentProfiles { profileTable.withLock { $0 } }

    /// The file the profiles come from (`--profiles`), if any.
    public var profilesFile: String? { options.profilesFile }

    /// Reads the profiles file again (`--profiles`; SIGHUP, or the admin call
    /// over RPC, HTTP and the CLI). A file that does not load, or that drops
    /// a profile a journey step names, is refused with its error
    /// (file:line:column and field) and the profiles in force stay. A server
    /// without a file answers its built-in profiles.
    public func reloadProfiles(caller: Caller) async throws(FulcrumError) -> FulfillmentProfiles {
        // Without a file the built-in profiles stay: there is nothing to read.
        guard let file = profilesFile else { return profiles }
        let loaded = try ProfilesFile.load(path: file, nodeIDs: network.nodeIDs)
        if let journeys = orchestration.withLock({ $0?.book }) { try Self.check(journeys, against: loaded) }
        profileTable.withLock { $0 = loaded }
        try await recordAudit(
            operation: "reload_profiles", subject: file, detail: "profiles: \(loaded.names.joined(separator: ", "))",
            caller: caller)
        return loaded
    }

    /// Every profile a journey step names is configured.
    static func check(_ book: JourneyBook, against profiles: FulfillmentProfiles) throws(FulcrumError) {
        for (profile, namedBy) in book.profileNames where profiles.byName[profile] == nil {
            throw FulcrumError(
                .unknownReference,
                "\(namedBy) names the fulfillment profile \(profile), which \(profiles.source ?? "the built-in profiles") does not define",
                path: "\(book.file): \(namedBy)")
        }
    }
}
