import ArgumentParser
import Dispatch
import Foundation
import FulcrumAllocator
import FulcrumClient
import FulcrumConfig
import FulcrumCore
import FulcrumGateway
import FulcrumServer
import FulcrumService
import FulcrumTLS
import FulcrumWire
import Logging
import Metrics
import Prometheus
import ServiceLifecycle

/// `fulcrumd`: the Fulcrum server process.
@main
struct Fulcrumd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fulcrumd", abstract: "The Fulcrum server: the ledger and the solver behind a binary RPC protocol.",
        subcommands: [Serve.self])
}

/// `fulcrumd serve --data DIR --listen HOST:PORT [--token T] [--demo]`.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve a ledger until SIGTERM or SIGINT, which drain requests in flight and close it cleanly.")

    @Option(help: "The ledger's data directory (created when absent).")
    var data: String

    @Option(help: "Where to listen, HOST:PORT (port 0 picks a free one).")
    var listen = "127.0.0.1:7400"

    @Option(help: "A shared secret every connection must present (Hello, or HTTP's bearer); it holds every scope.")
    var token: String?

    @Option(help: "A tokens file (YAML: name, sha256 digest, scopes per token); SIGHUP reloads it.")
    var tokens: String?

    @Option(help: "TLS on the RPC and the gateway: the server's certificate chain (PEM); SIGHUP reloads it.")
    var tlsCert: String?

    @Option(help: "The private key of --tls-cert (PEM).")
    var tlsKey: String?

    @Option(help: "With TLS: clients must present a certificate signed by this CA (PEM): mutual TLS.")
    var tlsClientCa: String?

    @Flag(help: "Allow plaintext on an address other than the loopback (tokens then cross the network in the clear).")
    var insecure = false

    @Flag(help: "Load the demo network and stock when the data directory is empty.")
    var demo = false

    @Option(help: "A network file ({\"nodes\": [...]}, optimize v2 nodes) for ATP near a point.")
    var network: String?

    @Option(help: "A journey file (docs/orchestration.md); without it the standard journeys run.")
    var journeys: String?

    @Option(help: "A fulfillment profiles file (YAML; README: fulfillment profiles). Reread on SIGHUP and `fulcrum profiles reload`.")
    var profiles: String?

    @Option(help: "An alerts file (YAML; docs/insights.md): rules over the live KPIs, delivered through provider outboxes. Reread on SIGHUP.")
    var alerts: String?

    @Option(help: "A SKU catalogue (YAML, or CSV: sku,weight_kg,category) upserted into the ledger at start; live solves use it.")
    var catalogue: String?

    @Option(help: "Also serve the HTTP/JSON gateway here, HOST:PORT (port 0 picks a free one).")
    var http: String?

    @Flag(help: "Print machine-readable lines (JSON) on standard output.")
    var json = false

    @Option(help: "RPC: milliseconds a connection may take to send Hello when a token is set.")
    var helloTimeoutMs = Limits.helloTimeoutMilliseconds

    @Option(help: "RPC: milliseconds a connection may go without a complete frame while nothing is in flight.")
    var idleTimeoutMs = Limits.connectionIdleTimeoutMilliseconds

    @Option(help: "RPC: connections admitted (authenticated); the one idle longest makes room for a newcomer.")
    var connectionsMax = Limits.connectionsMax

    @Option(help: "RPC: connections not yet authenticated, a budget of their own; the oldest makes room.")
    var unauthenticatedConnectionsMax = Limits.unauthenticatedConnectionsMax

    @Option(help: "HTTP: milliseconds a connection may wait for a request's headers (first or next).")
    var httpIdleTimeoutMs = Limits.httpIdleTimeoutMilliseconds

    @Option(help: "HTTP: open connections; those still sending their first headers make room first.")
    var httpConnectionsMax = Limits.httpConnectionsMax

    @Option(help: "Run as a replica of this cluster (its log and leader in etcd, under /fulcrum/NAME/); needs --etcd.")
    var cluster: String?

    @Option(help: "etcd's client URLs, comma-separated (http://HOST:PORT,...): the cluster's log and leader election.")
    var etcd: String?

    @Option(help: "With --cluster: the RPC address clients reach this replica at, HOST:PORT (default: --listen's).")
    var advertise: String?

    @Option(help: "With --cluster, as leader: log entries kept below the lowest position a live replica published.")
    var logTailEntries = Limits.logTailEntriesKept

    @Option(help: "With --cluster: the token this replica presents to the leader for a snapshot (admin scope; default --token).")
    var peerToken: String?

    func validate() throws {
        if token != nil && tokens != nil { throw ValidationError("give --token or --tokens, not both") }
        if (tlsCert == nil) != (tlsKey == nil) { throw ValidationError("--tls-cert and --tls-key go together") }
        if tlsClientCa != nil && tlsCert == nil { throw ValidationError("--tls-client-ca needs --tls-cert and --tls-key") }
        for (value, flag) in [(helloTimeoutMs, "--hello-timeout-ms"), (idleTimeoutMs, "--idle-timeout-ms"), (httpIdleTimeoutMs, "--http-idle-timeout-ms")]
        where value < 1 {
            throw ValidationError("\(flag) must be at least 1")
        }
        if (cluster == nil) != (etcd == nil) { throw ValidationError("--cluster and --etcd go together") }
        if advertise != nil && cluster == nil { throw ValidationError("--advertise needs --cluster") }
        if peerToken != nil && cluster == nil { throw ValidationError("--peer-token needs --cluster") }
        if cluster != nil && advertise == nil && listen.hasSuffix(":0") {
            throw ValidationError("a replica's peers name its address to clients: give --advertise, or --listen with a fixed port")
        }
        if let cluster, cluster.isEmpty || cluster.contains("/") {
            throw ValidationError("--cluster is a name without slashes")
        }
        for (value, flag) in [(connectionsMax, "--connections-max"), (unauthenticatedConnectionsMax, "--unauthenticated-connections-max"), (httpConnectionsMax, "--http-connections-max")]
        where value < 1 {
            throw ValidationError("\(flag) must be at least 1")
        }
    }

    func run() async throws {
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
        var logger = Logger(label: "fulcrumd")
        logger.logLevel = .info
        do {
            try await serve(logger: logger)
        } catch let error as FulcrumError {
            report(["error": ["code": error.code.rawValue, "message": error.message, "path": error.path]],
                   text: "error: \(error)")
            throw ExitCode(2)
        }
    }

    /// Raises the soft limit on open files to the hard one, so the connection
    /// budgets can be reached; says so when even that is below them.
    private func raiseOpenFileLimit(logger: Logger) {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
        if limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max
            _ = setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        }
        // Room for the ledger's files, the listeners and the event loops besides the connections.
        let needed = connectionsMax + unauthenticatedConnectionsMax + (http == nil ? 0 : httpConnectionsMax) + 64
        if Int(limit.rlim_cur) < needed {
            logger.warning(
                "the open-file limit is \(limit.rlim_cur), below the \(needed) the connection budgets need; raise it (ulimit -n)")
        }
    }

    private func serve(logger: Logger) async throws {
        raiseOpenFileLimit(logger: logger)
        // Before the ledger and the servers make their metric handles.
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // Buckets for what these measure: commits and requests take microseconds to milliseconds.
        let fast: [Duration] = [50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 100_000, 1_000_000].map { .microseconds($0) }
        factory.durationHistogramBuckets = [
            "fulcrum_ledger_commit_seconds": fast, "fulcrum_request_seconds": fast, "fulcrum_solver_solve_seconds": fast,
        ]
        factory.valueHistogramBuckets = ["fulcrum_ledger_group_commands": [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]]
        MetricsSystem.bootstrap(factory)
        let (host, port) = try ServerAddress.parse(listen)
        let access = AccessControl(try loadTokens())
        let tls = try tlsCert.map { (certificate) throws(FulcrumError) in
            try ServerTLS(files: ServerTLSFiles(certificate: certificate, key: tlsKey!, clientCA: tlsClientCa))
        }
        try checkExposure(hosts: [host] + (try http.map { try ServerAddress.parse($0).host }.map { [$0] } ?? []), tls: tls, logger: logger)
        let networkNodes = try loadNetwork()
        let book = try Journeys.load(file: journeys)
        var serviceOptions = Service.Options()
        if let profiles {
            serviceOptions.profiles = try ProfilesFile.load(path: profiles, nodeIDs: networkNodes.nodeIDs)
            serviceOptions.profilesFile = profiles
        }
        let alertRules = try alerts.map { (file) throws(FulcrumError) in try AlertsFile.load(path: file) }
        let catalogueSKUs = try catalogue.map { (file) throws(FulcrumError) in try CatalogueFile.load(path: file) }
        var ledgerOptions = LedgerOptions()
        ledgerOptions.replica = cluster != nil
        let clusterOptions = cluster.map { cluster in
            var options = ClusterOptions(
                cluster: cluster, endpoints: (etcd ?? "").split(separator: ",").map { String($0).hasPrefix("http") ? String($0) : "http://\($0)" },
                advertise: advertise ?? listen)
            options.logTailEntriesKept = logTailEntries
            return options
        }
        let service = try await openService(
            ledgerOptions: ledgerOptions, network: networkNodes, options: serviceOptions, clusterOptions: clusterOptions, logger: logger)
        // A replica writes only as the leader; the others receive the same writes through the log.
        let writes = try await leadsOrIsSingle(service)
        if let catalogueSKUs, let catalogue, writes {
            let caller = Caller(token: "file", request: "--catalogue")
            for start in stride(from: 0, to: catalogueSKUs.count, by: Limits.pageItemsMax) {
                _ = try await service.upsert(Array(catalogueSKUs[start..<min(start + Limits.pageItemsMax, catalogueSKUs.count)]), caller: caller)
            }
            logger.info("upserted \(catalogueSKUs.count) SKUs from \(catalogue)")
        }
        if demo, writes, try service.counts().entries == 0 {
            let commands = try await DemoData.load(into: service)
            logger.info("loaded the demo network and stock (\(commands) commands)")
        }
        if let alertRules { service.setAlertRules(alertRules) }
        // Resumes the events accepted but not finished before the last stop.
        try await service.startJourneys(book)
        var configuration = RPCServer.Configuration()
        configuration.host = host
        configuration.port = port
        configuration.access = access
        configuration.tls = tls
        configuration.helloTimeoutMilliseconds = helloTimeoutMs
        configuration.idleTimeoutMilliseconds = idleTimeoutMs
        configuration.connectionsMax = connectionsMax
        configuration.unauthenticatedConnectionsMax = unauthenticatedConnectionsMax
        let server: RPCServer
        do {
            server = try await RPCServer.start(
                service: service, configuration: configuration, logger: logger)
        } catch {
            service.close()
            throw FulcrumError(.unavailable, "cannot listen on \(listen): \(error)", path: "listen")
        }
        let address = "\(host):\(server.localAddress.port ?? port)"
        var gateway: HTTPGateway?
        var httpAddress: String?
        if let http {
            let (httpHost, httpPort) = try ServerAddress.parse(http)
            var gatewayConfiguration = GatewayConfiguration()
            gatewayConfiguration.host = httpHost
            gatewayConfiguration.port = httpPort
            gatewayConfiguration.access = access
            gatewayConfiguration.tls = tls
            gatewayConfiguration.metrics = registry
            gatewayConfiguration.admission.idleTimeoutMilliseconds = httpIdleTimeoutMs
            gatewayConfiguration.admission.connectionsMax = httpConnectionsMax
            gatewayConfiguration.admission.pendingConnectionsMax = min(Limits.httpPendingConnectionsMax, httpConnectionsMax)
            do {
                let started = try await HTTPGateway.start(
                    service: service, configuration: gatewayConfiguration, logger: logger)
                gateway = started
                httpAddress = "\(httpHost):\(started.port)"
            } catch {
                await server.shutdown()
                service.close()
                throw error
            }
        }
        logger.info("serving \(data) on \(address) (allocator: jemalloc \(Allocator.jemallocVersion() ?? "unknown"))")
        var listening: [String: Any] = ["listening": address, "data": data]
        if let httpAddress { listening["http"] = httpAddress }
        let ready = line(listening, text: "fulcrumd listening on \(address)" + (httpAddress.map { ", HTTP on \($0)" } ?? ""))
        var parts: [ServiceGroupConfiguration.ServiceConfiguration] = [
            // Said once the group traps SIGTERM and SIGINT: a client may stop us the moment it reads it.
            .init(service: Part(description: "ledger", started: { Self.say(ready) }) {
                await service.leaveCluster()
                service.close()
            }),
            .init(service: Part(description: "rpc") {
                logger.info("draining \(server.requestsInFlight) requests in flight")
                await server.shutdown()
            }),
        ]
        if let gateway { parts.append(.init(service: Part(description: "http") { await gateway.shutdown() })) }
        if tokens != nil || tls != nil || profiles != nil || alerts != nil {
            parts.append(.init(service: Reloader(
                tokensFile: tokens, alertsFile: alerts, access: access, tls: tls, service: service, logger: logger)))
        }
        var group = ServiceGroupConfiguration(services: parts, logger: logger)
        group.gracefulShutdownSignals = [.sigterm, .sigint]
        // Each listener drains within its own bound; past both, the group cancels (and the ledger still closes).
        group.maximumGracefulShutdownDuration = .milliseconds(2 * Limits.drainTimeoutMilliseconds + 1_000)
        try await ServiceGroup(configuration: group).run()
        logger.info("stopped; the ledger is closed")
        report(["stopped": address], text: "fulcrumd stopped")
    }

    /// Opens the service; a replica first starts from a snapshot when the
    /// log no longer reaches it, then joins its cluster. A busy leader with a
    /// short log tail may trim past the snapshot while the replica starts: the
    /// join then fails at `cluster` and the start begins again, for at most
    /// `Limits.snapshotStartWaitMilliseconds`.
    private func openService(
        ledgerOptions: LedgerOptions, network: Network, options: FulcrumService.Service.Options, clusterOptions: ClusterOptions?, logger: Logger
    ) async throws(FulcrumError) -> FulcrumService.Service {
        guard let cluster = clusterOptions else { return try Service.open(directory: data, ledgerOptions: ledgerOptions, network: network, options: options) }
        let started = ContinuousClock.now
        while true {
            try await startFromSnapshotWhenBehind(cluster, logger: logger)
            let service = try Service.open(directory: data, ledgerOptions: ledgerOptions, network: network, options: options)
            do throws(FulcrumError) {
                try await service.joinCluster(cluster, logger: logger)
                logger.info("replica of cluster \(cluster.cluster) at entry \(service.replicaStatus?.applied ?? 0)")
                return service
            } catch where error.code == .unavailable && error.path == "cluster"
                && ContinuousClock.now - started < .milliseconds(Limits.snapshotStartWaitMilliseconds)
            {
                service.close()
                logger.warning("\(error.message); starting again")
            } catch {
                service.close()
                throw error
            }
        }
    }

    /// A replica the cluster's log no longer reaches (new, wiped, or stopped
    /// while the leader trimmed the log) starts from a snapshot of the leader.
    /// While there is no leader to copy from, or the copy fails on the way
    /// (a leader that died), it tries again for `Limits.snapshotStartWaitMilliseconds`;
    /// an etcd it cannot reach ends the start at once, as `joinCluster` would.
    private func startFromSnapshotWhenBehind(_ options: ClusterOptions, logger: Logger) async throws(FulcrumError) {
        let token = peerToken ?? token
        let started = ContinuousClock.now
        while true {
            do throws(FulcrumError) {
                let installed = try await Service.bootstrap(directory: data, options: options) { (source, file) throws(FulcrumError) in
                    logger.info("the log of cluster \(options.cluster) no longer reaches \(data): copying a snapshot from \(source)")
                    let client = try await FulcrumClient.connect(
                        source, token: token, requestTimeoutMilliseconds: Limits.snapshotRequestTimeoutMilliseconds)
                    do throws(FulcrumError) {
                        let downloaded = try await client.downloadSnapshot(to: file)
                        await client.close()
                        return downloaded.position
                    } catch {
                        await client.close()
                        throw error
                    }
                }
                if let installed {
                    logger.info(
                        "started from a snapshot of \(installed.source) at log entry \(installed.position) (\((ContinuousClock.now - started).components.seconds) s)")
                }
                return
            } catch where error.code == .unavailable && error.path != "etcd"
                && ContinuousClock.now - started < .milliseconds(Limits.snapshotStartWaitMilliseconds)
            {
                logger.warning("no snapshot yet (\(error.message)); trying again")
                try? await Task.sleep(for: .milliseconds(Limits.replicaRetryIntervalMilliseconds * 5))
            }
        }
    }

    /// True for a single node; a replica waits (bounded) for an election and says whether it won.
    private func leadsOrIsSingle(_ service: FulcrumService.Service) async throws -> Bool {
        guard cluster != nil else { return true }
        for _ in 0..<100 {
            if let status = service.replicaStatus, status.leader != nil { return status.role == "leader" }
            try await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    private func loadTokens() throws(FulcrumError) -> TokenTable {
        if let tokens { return try TokensFile.load(path: tokens) }
        if let token {
            if token.isEmpty { throw FulcrumError(.invalidArgument, "the token must not be empty", path: "token") }
            return TokenTable(sharedToken: token)
        }
        return .open
    }

    /// Plaintext beyond the loopback needs `--insecure`, and is said loudly.
    private func checkExposure(hosts: [String], tls: ServerTLS?, logger: Logger) throws(FulcrumError) {
        let exposed = hosts.filter { !isLoopback($0) }
        guard tls == nil, let first = exposed.first else { return }
        guard insecure else {
            throw FulcrumError(
                .invalidArgument,
                "\(first) is not the loopback: give --tls-cert and --tls-key, or --insecure to serve plaintext anyway",
                path: "listen")
        }
        logger.warning("serving plaintext on \(exposed.joined(separator: ", ")) (--insecure): tokens and data cross the network in the clear")
    }

    private func loadNetwork() throws -> Network {
        if let network {
            guard let bytes = FileManager.default.contents(atPath: network) else {
                throw FulcrumError(.invalidArgument, "cannot read \(network)", path: "network")
            }
            return try Network.decode(json: bytes, path: network)
        }
        return demo ? DemoData.network : Network(nodes: [])
    }

    private func report(_ object: [String: Any], text: String) {
        Self.say(line(object, text: text))
    }

    /// The object as one JSON line with `--json`, else the text.
    private func line(_ object: [String: Any], text: String) -> String {
        guard json, let line = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return text }
        return String(decoding: line, as: UTF8.self)
    }

    private static func say(_ line: String) {
        print(line)
        fflush(nil)
    }
}
