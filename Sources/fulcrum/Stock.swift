import ArgumentParser
import Foundation
import FulcrumClient
import FulcrumCore
import FulcrumShims
import FulcrumWire

extension ServerOptions {
    /// A date option (`--due`, `--expires`) as epoch milliseconds; a bad one
    /// is the command's typed error at `path`, printed as the command prints errors.
    func date(_ text: String, path: String) throws -> Int64 {
        do {
            return try ATP.parseDate(text, path: path)
        } catch {
            throw fail(error, json: json)
        }
    }
}

/// `fulcrum transfer --server H:P --transfer ID --from-node A --to-node B --sku S --quantity Q --due DATE`.
struct TransferCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transfer",
        abstract: "Ship units from one node to another: in transit (ATP by date counts them at arrival) until received.")
    @OptionGroup var server: ServerOptions
    @Option(help: "The transfer's id; receive it by this id.") var transfer: String
    @Option var fromNode: String
    @Option var toNode: String
    @Option var sku: String
    @Option var quantity: Int64
    @Option(help: "The expected arrival: YYYY-MM-DD (end of that day, UTC) or an ISO 8601 time.") var due: String
    @Option(help: "An idempotency key: a retry with the same key is applied once.") var key = ""

    func run() async throws {
        let dueMs = try server.date(due, path: "due_ms")
        let request = Fulcrum_V1_TransferRequest.with {
            $0.transfer = transfer
            $0.fromNode = fromNode
            $0.toNode = toNode
            $0.sku = sku
            $0.quantity = quantity
            $0.dueMs = dueMs
            $0.idempotencyKey = key
        }
        try await server.run { client throws(FulcrumError) in
            let receipt = try await client.transfer(request).domain
            return (receipt.json, receipt.text)
        }
    }
}

/// `fulcrum allocate --server H:P --sku S --node N|'*' --channel C (--quantity Q | --share PERCENT)
/// [--no-overflow] [--expires DATE]`, and `fulcrum allocate --list [--sku S] [--channel C]`.
struct AllocateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "allocate",
        abstract: "Set aside stock of a SKU for a sales channel at a node or every node ('*'); --list shows allocations.")
    @OptionGroup var server: ServerOptions
    @Flag(help: "List allocations (of --sku and --channel when given) instead of setting one.") var list = false
    @Option var sku: String?
    @Option(help: "A node, or '*' for every node without an allocation of its own.") var node: String?
    @Option var channel: String?
    @Option(help: "Units set aside (0 removes the allocation).") var quantity: Int64?
    @Option(help: "A share of the node's on hand, in basis points (10000 = all; 0 removes it).") var shareBasisPoints: Int64?
    @Flag(help: "The channel may not take unallocated units once its own are held.") var noOverflow = false
    @Option(help: "When it stops protecting stock: YYYY-MM-DD (end of that day, UTC) or an ISO 8601 time.") var expires: String?
    @Option(help: "An idempotency key: a retry with the same key is applied once.") var key = ""

    func run() async throws {
        if list {
            let request = Fulcrum_V1_AllocationsRequest.with {
                $0.sku = sku ?? ""
                $0.channel = channel ?? ""
            }
            try await server.run { client throws(FulcrumError) in
                var allocations: [Allocation] = []
                for allocation in try await client.allocations(request).allocations { allocations.append(try allocation.domain()) }
                return (
                    JSON.object(["allocations": .array(allocations.map(\.json))]),
                    allocations.map(\.text).joined(separator: "\n")
                )
            }
            return
        }
        var request = Fulcrum_V1_AllocateRequest()
        do throws(FulcrumError) {
            guard let sku, let node, let channel else {
                throw FulcrumError(.invalidArgument, "an allocation needs --sku, --node and --channel", path: "sku")
            }
            request.sku = sku
            request.node = node
            request.channel = channel
            if let quantity { request.quantity = quantity }
            if let shareBasisPoints { request.shareBasisPoints = shareBasisPoints }
            request.overflow = !noOverflow
            if let expires { request.expiresMs = try ATP.parseDate(expires, path: "expires_ms") }
            request.idempotencyKey = key
        } catch {
            throw fail(error, json: server.json)
        }
        try await server.run { client throws(FulcrumError) in
            let allocation = try await client.allocate(request).allocation.domain()
            return (allocation.json, allocation.text)
        }
    }
}

/// `fulcrum reschedule --server H:P --receipt ID --due DATE`.
struct Reschedule: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A scheduled receipt runs late (or early): ATP by date counts it from its new date; its preorders hear of it.")
    @OptionGroup var server: ServerOptions
    @Option(help: "The receipt's or the transfer's id.") var receipt: String
    @Option(help: "The new due date: YYYY-MM-DD (end of that day, UTC) or an ISO 8601 time.") var due: String
    @Option(help: "An idempotency key: a retry with the same key is applied once.") var key = ""

    func run() async throws {
        let dueMs = try server.date(due, path: "due_ms")
        let request = Fulcrum_V1_RescheduleRequest.with {
            $0.receipt = receipt
            $0.dueMs = dueMs
            $0.idempotencyKey = key
        }
        try await server.run { client throws(FulcrumError) in
            let receipt = try await client.reschedule(request).domain
            return (receipt.json, receipt.text)
        }
    }
}

/// `fulcrum receive --server H:P --receipt ID [--quantity Q]`.
struct Receive: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A scheduled receipt or a transfer arrives: its units go on hand (all that were due unless --quantity).")
    @OptionGroup var server: ServerOptions
    @Option(help: "The receipt's or the transfer's id.") var receipt: String
    @Option(help: "Units that arrived (default: all that were due).") var quantity: Int64?
    @Option(help: "An idempotency key: a retry with the same key is applied once.") var key = ""

    func run() async throws {
        let request = Fulcrum_V1_ReceiveRequest.with {
            $0.receipt = receipt
            $0.quantity = quantity ?? 0
            $0.idempotencyKey = key
        }
        try await server.run { client throws(FulcrumError) in
            let (key, position) = try await client.receive(request).position.domain
            return (position.json(key), position.text(key))
        }
    }
}

/// `fulcrum reconcile --server H:P --counts FILE [--node N ...]`: a count
/// file (the stock shim's CSV or JSONL, counts only) against the ledger.
struct Reconcile: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Set a stock count file against the ledger as it stood when counted; lists every difference, changes nothing.")
    @OptionGroup var server: ServerOptions
    @Option(help: "The counts: CSV (node,sku,quantity[,as_of_ms]) or JSONL, one count time for all.") var counts: String
    @Option(name: .customLong("node"), help: "The count covers this node whole: positions it leaves out count as 0 (repeat).")
    var nodes: [String] = []

    func run() async throws {
        let request: Fulcrum_V1_ReconcileRequest
        do {
            request = try Self.request(path: counts, nodes: nodes)
        } catch {
            throw fail(error, json: server.json)
        }
        try await server.run { client throws(FulcrumError) in
            let answer = try await client.reconcile(request)
            let reconciliation = Reconciliation(
                differences: answer.differences.map {
                    .init(node: $0.node, sku: $0.sku, quantity: $0.quantity, ledgerQuantity: $0.ledgerQuantity)
                }, matched: Int(answer.matched))
            let lines = reconciliation.differences.map { difference in
                "\(difference.node)/\(difference.sku): counted \(difference.quantity), ledger \(difference.ledgerQuantity)"
                    + " (\(difference.difference > 0 ? "+" : "")\(difference.difference))"
            }
            return (reconciliation.json, ([("\(lines.count) differences, \(reconciliation.matched) matched")] + lines).joined(separator: "\n"))
        }
    }

    static func request(path: String, nodes: [String]) throws(FulcrumError) -> Fulcrum_V1_ReconcileRequest {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FulcrumError(.notFound, "cannot read \(path)", path: "counts")
        }
        let feed = StockFeed(source: "reconcile", mapping: nil)
        let lines = try (path.hasSuffix(".csv") ? feed.parseCSV(data) : feed.parseJSONL(data)).map { result throws(FulcrumError) in
            try result.get()
        }
        let times = Set(lines.map { $0.asOf?.millisecondsSinceEpoch ?? 0 })
        guard times.count <= 1 else {
            throw FulcrumError(.invalidArgument, "the counts have \(times.count) count times; reconcile one at a time", path: "as_of_ms")
        }
        var request = Fulcrum_V1_ReconcileRequest()
        request.asOfMs = times.first ?? 0
        request.nodes = nodes
        for line in lines {
            guard case .set(let quantity) = line.change else {
                throw FulcrumError(.invalidArgument, "a reconciliation takes counts (quantity), not deltas", path: line.label)
            }
            request.counts.append(.with {
                $0.node = line.node
                $0.sku = line.sku
                $0.quantity = quantity
            })
        }
        return request
    }
}
