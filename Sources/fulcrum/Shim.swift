import ArgumentParser
import Foundation
import FulcrumClient
import FulcrumCore
import FulcrumHTTP
import FulcrumShims
import FulcrumWire
import Logging

/// `fulcrum shim KIND ...`: a provider shim, a separate process that speaks
/// the binary RPC to fulcrumd. Runs until SIGTERM or SIGINT.
struct Shim: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a provider shim: webhook intake (shopify, bigcommerce, wms), a file drop, stock feeds, or outbound webhooks.",
        subcommands: [
            ShopifyShim.self, BigCommerceShim.self, ShipmentShim.self, FileDropShim.self, StockShim.self, WebhookShim.self,
        ])
}

/// What every shim shares: the server, its token, and how it reports.
struct ShimOptions: ParsableArguments {
    @Option(help: "fulcrumd's address, HOST:PORT; a cluster's replicas as HOST:PORT,HOST:PORT,... (writes follow the leader).") var server: String
    @Option(help: "fulcrumd's token (default: $FULCRUM_TOKEN).") var token: String?
    @Flag(help: "Print machine-readable lines (JSON) on standard output.") var json = false
    @OptionGroup var connection: ConnectionOptions

    /// A client that connects when first used and again after fulcrumd
    /// restarts: a shim may start before fulcrumd and outlives its restarts
    /// (intake answers 503 with Retry-After meanwhile).
    func connect() throws -> FulcrumClient {
        do {
            return try connection.connecting(server, token: token)
        } catch {
            throw fail(error, json: json)
        }
    }

    var logger: Logger {
        var logger = Logger(label: "fulcrum-shim")
        logger.logLevel = .info
        return logger
    }

    /// Says the shim is up (a JSON line with `--json`), then waits for SIGTERM/SIGINT.
    func serveUntilSignalled(_ fields: [(String, JSON)], text: String) async {
        let signals = SignalStream([SIGTERM, SIGINT])
        printFlushed(json ? JSON.orderedObject(fields).rendered : text)
        _ = await signals.next()
    }

    func loadMapping(_ path: String) throws -> MappingGroup {
        do {
            return try MappingGroup.load(path: path)
        } catch {
            throw fail(error, json: json)
        }
    }
}

/// Runs an intake's webhook receiver until signalled.
private func serveWebhooks(_ intake: any WebhookReceiver, listen: String, options: ShimOptions) async throws {
    let client = try options.connect()
    do throws(FulcrumError) {
        let (host, port) = try ServerAddress.parse(listen)
        let listener = try await WebhookServer.start(intake: intake, client: client, host: host, port: port, logger: options.logger)
        let address = "\(host):\(listener.port)"
        await options.serveUntilSignalled(
            [("listening", .string(address)), ("shim", .string(intake.provider))],
            text: "\(intake.provider) shim listening on \(address), POST /webhook")
        await listener.shutdown()
    } catch {
        await client.close()
        throw fail(error, json: options.json)
    }
    await client.close()
}

struct ShopifyShim: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shopify", abstract: "Receive Shopify order webhooks (orders/create, orders/cancelled), HMAC-verified.")
    @OptionGroup var options: ShimOptions
    @Option(help: "Where to listen, HOST:PORT (port 0 picks a free one).") var listen: String
    @Option(help: "The app's webhook secret (X-Shopify-Hmac-Sha256).") var secret: String
    @Option(help: "The mapping group file (SKUs, shipping methods).") var mapping: String
    @Option(help: "Webhooks triggered longer ago than this are refused as replays.") var maxAgeSeconds: Int64 = 300

    func run() async throws {
        let intake = ShopifyIntake(secret: secret, maximumAgeSeconds: maxAgeSeconds, mapping: try options.loadMapping(mapping))
        try await serveWebhooks(intake, listen: listen, options: options)
    }
}

struct BigCommerceShim: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bigcommerce", abstract: "Receive BigCommerce-style order webhooks, authenticated by X-Webhook-Token.")
    @OptionGroup var options: ShimOptions
    @Option(help: "Where to listen, HOST:PORT.") var listen: String
    @Option(help: "The shared token the webhooks carry in X-Webhook-Token.") var secret: String
    @Option(help: "The mapping group file.") var mapping: String

    func run() async throws {
        try await serveWebhooks(BigCommerceIntake(token: secret, mapping: try options.loadMapping(mapping)), listen: listen, options: options)
    }
}

struct ShipmentShim: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wms", abstract: "Receive shipment confirmations from a WMS or 3PL (signed with X-Fulcrum-Hmac-Sha256).")
    @OptionGroup var options: ShimOptions
    @Option(help: "Where to listen, HOST:PORT.") var listen: String
    @Option(help: "The secret the confirmations are signed with.") var secret: String

    func run() async throws {
        try await serveWebhooks(ShipmentIntake(secret: secret), listen: listen, options: options)
    }
}

struct FileDropShim: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "files", abstract: "Import orders from CSV and JSONL files dropped in a directory, each once.")
    @OptionGroup var options: ShimOptions
    @OptionGroup var drop: DropOptions
    @Option(help: "The mapping group file.") var mapping: String

    func run() async throws {
        let client = try options.connect()
        try await drop.run(OrderFiles(mapping: try options.loadMapping(mapping), client: client), client: client, options: options)
    }
}

/// `fulcrum shim stock`: a WMS, POS or ERP's stock — counts and deltas — from
/// signed webhooks (`--listen`) or files dropped in a directory (`--watch`).
struct StockShim: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stock",
        abstract: "Take stock counts and deltas from a WMS, POS or ERP: signed webhooks or CSV/JSONL files; counts are reconciled first.")
    @OptionGroup var options: ShimOptions
    @Option(help: "The feed's name, kept on every ledger entry it makes (e.g. wms-east).") var source: String
    @Option(help: "A mapping group file: node and SKU ids of the source (locations, skus).") var mapping: String?
    @Option(help: "Receive webhooks here, HOST:PORT (POST /webhook).") var listen: String?
    @Option(help: "The secret webhooks are signed with (X-Fulcrum-Hmac-Sha256); needed with --listen.") var secret: String?
    @Option(help: "Import files dropped in this directory.") var watch: String?
    @Option(help: "How often to look for new files.") var intervalMs = 1_000
    @Flag(help: "Import the files there, then exit (with --watch).") var once = false

    func validate() throws {
        guard (listen == nil) != (watch == nil) else { throw ValidationError("give exactly one of --listen and --watch") }
        guard listen == nil || secret != nil else { throw ValidationError("--listen needs --secret") }
        guard !source.isEmpty else { throw ValidationError("--source must name the feed") }
    }

    func run() async throws {
        let feed = StockFeed(source: source, mapping: try mapping.map { path in try options.loadMapping(path) })
        if let listen, let secret {
            try await serveWebhooks(StockIntake(secret: secret, feed: feed), listen: listen, options: options)
            return
        }
        let client = try options.connect()
        let drop = DropOptions(watch: watch!, intervalMs: intervalMs, once: once)
        try await drop.run(StockFiles(feed: feed, client: client), client: client, options: options)
    }
}

/// A file drop's directory and how it runs.
struct DropOptions: ParsableArguments {
    @Option(help: "The directory to watch.") var watch: String
    @Option(help: "How often to look for new files.") var intervalMs = 1_000
    @Flag(help: "Import what is there, then exit.") var once = false

    init() {}
    init(watch: String, intervalMs: Int, once: Bool) {
        self.watch = watch
        self.intervalMs = intervalMs
        self.once = once
    }

    /// Imports once and prints the counts, or watches until signalled.
    func run(_ importer: any FileImporter, client: FulcrumClient, options: ShimOptions) async throws {
        let drop = FileDrop(directory: watch, importer: importer, logger: options.logger)
        if once {
            do throws(FulcrumError) {
                let report = try await drop.scan()
                await client.close()
                printFlushed(
                    options.json
                        ? JSON.orderedObject([
                            ("files", .integer(Int64(report.files))), ("accepted", .integer(Int64(report.accepted))),
                            ("duplicate", .integer(Int64(report.duplicate))), ("failed", .integer(Int64(report.failed))),
                        ]).rendered
                        : "\(report.files) files: \(report.accepted) \(importer.items) accepted, \(report.duplicate) already imported, \(report.failed) refused")
            } catch {
                await client.close()
                throw fail(error, json: options.json)
            }
            return
        }
        let task = Task { await drop.run(intervalMilliseconds: intervalMs) }
        await options.serveUntilSignalled([("watching", .string(watch)), ("shim", .string("files"))], text: "watching \(watch)")
        task.cancel()
        _ = await task.value
        await client.close()
    }
}

struct WebhookShim: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhook", abstract: "Deliver a provider's outbox to its URL: retries with backoff, then dead letters.")
    @OptionGroup var options: ShimOptions
    @Option(help: "The provider, as the journey's send_to_provider step names it.") var provider: String
    @Option(help: "The URL to POST messages to.") var target: String
    @Option(help: "Sign bodies with this secret (X-Fulcrum-Hmac-Sha256).") var secret: String?
    @Option(help: "Attempts after the first before a message becomes a dead letter.") var retries = 5
    @Option(help: "The first retry's wait; each next one doubles.") var backoffMs = 200
    @Option(help: "How often to look at an empty outbox.") var pollMs = 100

    func run() async throws {
        let client = try options.connect()
        var deliveryOptions = WebhookDelivery.Options(provider: provider, target: target)
        deliveryOptions.secret = secret
        deliveryOptions.retries = retries
        deliveryOptions.backoffMilliseconds = backoffMs
        deliveryOptions.pollMilliseconds = pollMs
        let delivery = WebhookDelivery(client: client, options: deliveryOptions, logger: options.logger)
        let task = Task { await delivery.run() }
        await options.serveUntilSignalled(
            [("delivering", .string(provider)), ("target", .string(target))], text: "delivering \(provider)'s outbox to \(target)")
        task.cancel()
        _ = await task.value
        await delivery.shutdown()
        await client.close()
    }
}
