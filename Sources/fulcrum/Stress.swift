import ArgumentParser
import Foundation
import FulcrumCore
import FulcrumService

/// `fulcrum stress`: drives a ledger with random commands from many concurrent
/// submitters, as fast as it takes them, then verifies it. With `--acks`, it
/// prints `ack KEY` the moment each command is acknowledged (durable): the
/// crash test kills it with SIGKILL and checks every acknowledged key survived.
struct Stress: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Drive the ledger with random concurrent commands, then verify it.")

    @OptionGroup var data: DataOptions
    @Option(help: "Random seed; the same seed gives the same commands per submitter.") var seed: UInt64 = 1
    @Option(help: "Commands in all.") var commands = 20_000
    @Option(help: "Concurrent submitters.") var submitters = 64
    @Option(help: "Distinct SKUs (fewer means hotter contention).") var skus = 8
    @Option(help: "Distinct nodes.") var nodes = 4
    @Flag(help: "Print `ack KEY` for each acknowledged command, flushed at once.") var acks = false

    func validate() throws {
        guard commands >= 1, submitters >= 1, skus >= 1, nodes >= 1 else {
            throw ValidationError("--commands, --submitters, --skus and --nodes must be at least 1")
        }
    }

    func run() async throws {
        let ledger: Service
        do {
            ledger = try Service.open(directory: data.data)
        } catch {
            throw fail(error, json: false)
        }
        let started = DispatchTime.now().uptimeNanoseconds
        let perSubmitter = (commands + submitters - 1) / submitters
        let counts = await withTaskGroup(of: (acked: Int, refused: Int).self) { group in
            for submitter in 0..<submitters {
                group.addTask {
                    await drive(ledger, submitter: submitter, commands: perSubmitter)
                }
            }
            return await group.reduce((acked: 0, refused: 0)) { ($0.acked + $1.acked, $0.refused + $1.refused) }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        ledger.close()
        let statistics = ledger.writer
        let groups = max(1, statistics.groups)
        let rate = Int(Double(counts.acked + counts.refused) / seconds)
        let commitMicroseconds = statistics.commitNanoseconds / UInt64(groups) / 1_000
        printFlushed(
            "stress: \(counts.acked) acknowledged, \(counts.refused) refused in \(String(format: "%.2f", seconds)) s "
                + "(\(rate) commands/s; \(groups) group commits of \(statistics.commands / groups) "
                + "commands on average, \(commitMicroseconds) µs per commit)")
        let report = try ledger.verify()
        printReport(report, json: false)
        if !report.isConsistent { throw ExitCode(1) }
    }

    /// One submitter's deterministic stream: restocks, counts, returns,
    /// transfers and their receipts, channels' allocations, reservations of 1 to 3 lines
    /// (by channel; some preorders of a transfer in transit), and confirm/ship/release
    /// of its own open orders.
    private func drive(_ ledger: Service, submitter: Int, commands: Int) async -> (acked: Int, refused: Int) {
        var random = SplitMix64(seed: seed &* 1_000_003 &+ UInt64(submitter))
        var open: [String] = []
        var inTransit: [ScheduledReceipt] = []
        var acked = 0
        var refused = 0
        for index in 0..<commands {
            let key = "s\(seed)-\(submitter)-\(index)"
            let command = nextCommand(&random, order: key, open: &open, inTransit: &inTransit)
            do {
                let result = try await ledger.execute(command, idempotencyKey: key)
                acked += 1
                if case .reserve(let request) = command { open.append(request.order) }
                if case .receipt(let receipt) = result { inTransit.append(receipt) }
                if acks { printFlushed("ack \(key)") }
            } catch {
                refused += 1
            }
        }
        return (acked, refused)
    }

    private func nextCommand(
        _ random: inout SplitMix64, order: String, open: inout [String], inTransit: inout [ScheduledReceipt]
    )
        -> LedgerCommand
    {
        func key() -> (node: String, sku: String) {
            ("N\(Int.random(in: 0..<nodes, using: &random))", "SKU\(Int.random(in: 0..<skus, using: &random))")
        }
        let roll = Int.random(in: 0..<100, using: &random)
        switch roll {
        case 0..<13:
            let (node, sku) = key()
            return .adjust(.init(node: node, sku: sku, change: .delta(Int64.random(in: 1...20, using: &random)), reason: "restock"))
        case 13..<14:
            // A return: some units restocked, some refurbished (a receipt due in a week), some disposed of.
            let (node, sku) = key()
            let lines = Disposition.allCases.map { ReturnToStockRequest.Line(sku: sku, quantity: Int64.random(in: 1...3, using: &random), disposition: $0) }
            return .returnToStock(.init(returnID: order, node: node, lines: lines, refurbishDue: SystemClock().now().adding(seconds: 7 * 86_400)))
        case 14..<15:
            // A count taken a moment ago: what the ledger did since stays.
            let (node, sku) = key()
            let asOf = SystemClock().now().adding(seconds: -1)
            let quantity = Int64.random(in: 0...60, using: &random)
            return .adjust(.init(node: node, sku: sku, change: .set(quantity), reason: "count", source: "stress", asOf: asOf))
        case 15..<18:
            let (from, sku) = key()
            let to = "N\(Int.random(in: 0..<nodes, using: &random))"
            let due = SystemClock().now().adding(seconds: 3_600)
            let quantity = Int64.random(in: 1...5, using: &random)
            return .transfer(.init(transfer: order, fromNode: from, toNode: to, sku: sku, quantity: quantity, due: due))
        case 18..<20 where !inTransit.isEmpty:
            return .receive(.init(receipt: inTransit.removeFirst().receipt))
        case 18..<20:
            // A channel's allocation set, changed or removed, at a node or every node.
            let (node, sku) = key()
            let amount: Allocation.Amount =
                Bool.random(using: &random)
                ? .quantity(Int64.random(in: 0...10, using: &random)) : .shareBasisPoints(Int64.random(in: 0...5_000, using: &random))
            return .allocate(
                .init(
                    sku: sku, node: Bool.random(using: &random) ? node : Allocation.everyNode,
                    channel: Self.channels[Int.random(in: 1..<Self.channels.count, using: &random)], amount: amount,
                    overflow: Bool.random(using: &random)))
        case 20..<60 where !open.isEmpty:
            let order = open.remove(at: Int.random(in: 0..<open.count, using: &random))
            switch Int.random(in: 0..<3, using: &random) {
            case 0: return .confirm(order: order)
            case 1: return .release(order: order)
            default:
                open.append(order)
                return .ship(order: order)
            }
        default:
            var lines: [ReservationLine] = []
            var used = Set<String>()
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                let (node, sku) = key()
                if used.insert("\(node)/\(sku)").inserted {
                    lines.append(ReservationLine(node: node, sku: sku, quantity: Int64.random(in: 1...3, using: &random)))
                }
            }
            if let receipt = inTransit.last, Int.random(in: 0..<5, using: &random) == 0, used.insert("\(receipt.node)/\(receipt.sku)").inserted {
                lines.append(ReservationLine(node: receipt.node, sku: receipt.sku, quantity: 1, receipt: receipt.receipt))
            }
            let channel = Self.channels[Int.random(in: 0..<Self.channels.count, using: &random)]
            return .reserve(.init(order: order, lines: lines, ttlSeconds: 600, channel: channel))
        }
    }

    /// Sales channels of the stream's reservations ("" for none) and allocations.
    private static let channels = ["", "web", "marketplace", "stores"]
}
