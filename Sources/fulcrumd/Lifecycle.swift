import ServiceLifecycle

/// One part of fulcrumd in its `ServiceGroup`: started before the group runs
/// (so a failure to listen is reported at once), it waits for graceful
/// shutdown, then stops. The group starts the parts in order and, on SIGTERM
/// or SIGINT, stops them in reverse, each after the one started after it: the
/// listeners drain their requests first, the ledger closes last.
struct Part: ServiceLifecycle.Service, CustomStringConvertible {
    let description: String
    /// Runs once the group runs, so its signal handlers are in place (a
    /// "listening" line said before them would invite a SIGTERM that kills).
    var started: @Sendable () -> Void = {}
    let stop: @Sendable () async -> Void

    func run() async throws {
        started()
        // Cancellation (the group's shutdown bound ran out) stops the part all the same.
        try? await gracefulShutdown()
        await stop()
    }
}
