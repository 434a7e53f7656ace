import ArgumentParser
import Foundation
import FulcrumClient
import FulcrumCore
import FulcrumReplay

/// `fulcrum replay SCENARIO`: drive a scenario through the real ledger and
/// solver (embedded, or a running fulcrumd) and write its KPI report.
struct Replay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replay a scenario through the engine and write a KPI report (JSON, Markdown, HTML).")

    @Argument(help: "A scenario file, or a directory holding scenario.yaml.") var scenario: String
    @Option(help: "The sourcing strategy: optimal, greedy-nearest or greedy-priority (default: the scenario's).")
    var strategy: String?
    @Option(help: "Strategies to replay side by side, comma-separated; the first is the baseline.")
    var compare: String?
    @Option(help: "Where to write report.json, report.md and report.html (default: replay-reports/NAME).")
    var out: String?
    @Option(help: "Replay against a running fulcrumd, HOST:PORT (default: an embedded ledger).")
    var server: String?
    @Option(help: "The server's token (default: $FULCRUM_TOKEN).") var token: String?
    @OptionGroup var connection: ConnectionOptions
    @Option(help: "With --server: SKUs go to the server as NAMESPACE/SKU (default: replay-RUN, new each run).")
    var namespace: String?
    @Flag(help: "With --server: overwrite positions an earlier replay left in --namespace.") var resetPositions = false
    @Option(help: "Override the scenario's seed.") var seed: UInt64?
    @Flag(help: "Print the report's JSON instead of its Markdown.") var json = false
    @Flag(help: "No progress on standard error.") var quiet = false

    func validate() throws {
        if strategy != nil && compare != nil { throw ValidationError("give --strategy or --compare, not both") }
        if server == nil && (namespace != nil || resetPositions) {
            throw ValidationError("--namespace and --reset-positions are for --server")
        }
        for name in (compare ?? strategy ?? "optimal").split(separator: ",") where Strategy(rawValue: String(name)) == nil {
            throw ValidationError("'\(name)' is not a strategy (optimal, greedy-nearest, greedy-priority)")
        }
    }

    func run() async throws {
        do {
            var loaded = try Scenario.load(path: scenario)
            if let seed { loaded.seed = seed }
            let strategies =
                (compare ?? strategy)?.split(separator: ",").map { Strategy(rawValue: String($0))! } ?? [loaded.replay.strategy]
            let expanded = ExpandedScenario(loaded)
            let display = ProgressDisplay(enabled: !quiet, ordersTotal: expanded.orders.count)
            let report: ReplayReport
            if let server {
                report = try await replayRemote(expanded, strategies: strategies, server: server, display: display)
            } else {
                report = try await Replayer.embedded(expanded, strategies: strategies) { display.show($0, $1) }
            }
            display.finish()
            let directory = out ?? "replay-reports/\(loaded.name)"
            let paths = try report.write(to: directory)
            if json {
                print(String(decoding: report.json(), as: UTF8.self))
            } else {
                print(report.markdown(), terminator: "")
                printError("wrote \(paths.joined(separator: ", "))")
            }
        } catch {
            throw fail(error, json: json)
        }
    }

    private func replayRemote(_ expanded: ExpandedScenario, strategies: [Strategy], server: String, display: ProgressDisplay)
        async throws(FulcrumError) -> ReplayReport
    {
        let client = try await connection.connect(server, token: token)
        // Order and receipt ids of this run do not collide with earlier runs on the same ledger.
        let runTag = String(UInt64(Date().timeIntervalSince1970 * 1000), radix: 36)
        let engine = RemoteReplayEngine(client: client, namespace: namespace ?? "replay-\(runTag)")
        var results: [StrategyResult] = []
        do {
            try await checkNamespace(expanded, engine: engine, server: server)
            for strategy in strategies {
                var options = Replayer.Options(strategy: strategy)
                options.idPrefix = "\(runTag)-\(strategy.rawValue.prefix(1))-"
                options.progress = { display.show(strategy, $0) }
                results.append(try await Replayer.run(expanded, engine: engine, options: options))
            }
        } catch {
            await client.close()
            throw error
        }
        await client.close()
        return ReplayReport(expanded, results: results)
    }

    /// Says what the replay will touch on the server, and refuses to
    /// overwrite positions already there in its namespace unless asked.
    private func checkNamespace(_ expanded: ExpandedScenario, engine: RemoteReplayEngine, server: String)
        async throws(FulcrumError)
    {
        let skus = Set(expanded.skus.map(\.id)).union(expanded.positions.map(\.sku)).sorted()
        for sku in skus { try Names.validate(engine.name(sku), path: "namespace") }
        let existing = try await engine.existingPositions(skus: skus)
        if existing > 0 && !resetPositions {
            throw FulcrumError(
                .invalidArgument,
                "\(server) already holds \(existing) positions in namespace '\(engine.namespace)' (an earlier replay?): "
                    + "pass --reset-positions to overwrite them, or another --namespace",
                path: "namespace")
        }
        let nodes = Set(expanded.positions.map(\.node)).count
        printError(
            "replay: on \(server), namespace '\(engine.namespace)': sets \(expanded.positions.count) positions "
                + "(\(nodes) nodes × SKUs named \(engine.namespace)/SKU)\(existing > 0 ? ", resetting \(existing)" : ""), "
                + "places \(expanded.orders.count) orders per strategy; nothing outside the namespace changes")
    }
}

/// The replay's progress on standard error: a bar redrawn in place on a
/// terminal, a plain line every tenth of the orders otherwise.
final class ProgressDisplay: Sendable {
    private let enabled: Bool
    private let terminal: Bool
    private let ordersTotal: Int

    init(enabled: Bool, ordersTotal: Int) {
        self.enabled = enabled
        terminal = isatty(STDERR_FILENO) == 1
        self.ordersTotal = ordersTotal
    }

    func show(_ strategy: Strategy, _ progress: ReplayProgress) {
        guard enabled else { return }
        let rate = progress.wallSeconds > 0 ? Double(progress.ordersDone) / progress.wallSeconds : 0
        let remaining = rate > 0 ? Int(Double(progress.ordersTotal - progress.ordersDone) / rate) : 0
        let fraction = Double(progress.ordersDone) / Double(max(1, progress.ordersTotal))
        let text = "\(strategy.rawValue): \(progress.ordersDone)/\(progress.ordersTotal) orders · day \(progress.day + 1)/\(progress.days) · \(Int(rate)) orders/s · ETA \(remaining / 60):\(String(format: "%02d", remaining % 60))"
        if terminal {
            let filled = Int(fraction * 24)
            let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: 24 - filled)
            FileHandle.standardError.write(Data("\r\u{1B}[K\(bar) \(text)".utf8))
        } else {
            let step = max(1, progress.ordersTotal / 10)
            let crossed = progress.ordersDone / step != (progress.ordersDone - 1000) / step
            if crossed || progress.ordersDone == progress.ordersTotal { printError(text) }
        }
    }

    func finish() {
        if enabled && terminal { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
