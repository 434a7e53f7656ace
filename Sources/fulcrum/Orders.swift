import ArgumentParser
import Foundation
import FulcrumClient
import FulcrumCore
import FulcrumService
import FulcrumWire

/// `fulcrum order ORDER-ID --server H:P`: an order's state, entities and timeline.
struct OrderState: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "order", abstract: "Print an order's state, its lines, fulfillment orders and returns, and its timeline.")
    @OptionGroup var server: ServerOptions
    @Argument(help: "The order id.") var order: String
    @Option(help: "At most this many timeline entries.") var limit: UInt32 = 1_000

    func run() async throws {
        try await server.run { client throws(FulcrumError) in
            let answer = try await client.call(
                .getOrder, Fulcrum_V1_GetOrderRequest.with {
                    $0.order = order
                    $0.timelineLimit = limit
                }, as: Fulcrum_V1_GetOrderResponse.self)
            let record = answer.order.domain
            var timeline: [TimelineEntry] = []
            for entry in answer.timeline { timeline.append(try entry.domain()) }
            let json = JSON.orderedObject([
                ("order", .text(RecordCoding.text(record))),
                ("timeline", .text(RecordCoding.text(timeline))),
            ])
            return (json, Self.text(record, timeline))
        }
    }

    static func text(_ order: OrderRecord, _ timeline: [TimelineEntry]) -> String {
        var lines = ["order \(order.id) (\(order.source)): \(order.state)"]
        if let failure = order.failure {
            lines.append("  failed at step \(failure.step): \(failure.code): \(failure.message)"
                + (failure.resumeStep.map { " (reprocess resumes at \($0))" } ?? ""))
        }
        for waiting in order.waiting {
            lines.append("  step \(waiting.step) waits for \(waiting.messages.count) provider message(s)")
        }
        for line in order.lines {
            let allocations = line.allocations.sorted { $0.key < $1.key }.map { "\($0.value) at \($0.key)" }
            lines.append("  line \(line.id): \(line.quantity) \(line.sku), \(line.state)"
                + (allocations.isEmpty ? "" : " (" + allocations.joined(separator: ", ") + ")"))
        }
        for fulfillmentOrder in order.fulfillmentOrders {
            lines.append("  fulfillment order \(fulfillmentOrder.id) at \(fulfillmentOrder.node): \(fulfillmentOrder.state)"
                + (fulfillmentOrder.tracking.map { ", tracking \($0)" } ?? ""))
        }
        for item in order.returns {
            lines.append("  return \(item.id): \(item.state)" + (item.node.map { " to \($0)" } ?? ""))
        }
        lines.append("timeline:")
        for entry in timeline {
            let at = Date(timeIntervalSince1970: Double(entry.atMs) / 1000).ISO8601Format(.iso8601.time(includingFractionalSeconds: true))
            lines.append("  \(at)  \(entry.kind.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)) \(entry.entity)  "
                + (entry.step.map { "[\($0)] " } ?? "") + entry.text + (entry.code.map { " (\($0))" } ?? ""))
        }
        return lines.joined(separator: "\n")
    }
}

/// `fulcrum event NAME --order ID [--field K=V ...] --server H:P`: raises a business event.
struct EventCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "event", abstract: "Send a business event about an order (order.cancel_requested, fulfillment_order.shipped, ...).")
    @OptionGroup var server: ServerOptions
    @Argument(help: "The event's name.") var name: String
    @Option(help: "The order it is about.") var order: String
    @Option(name: .customLong("field"), help: "A field of the event, KEY=VALUE (repeatable).") var fields: [String] = []
    @Option(
        name: .customLong("return-line"),
        help: "return.requested: SKU=QUANTITY; return.received: SKU=QUANTITY:DISPOSITION (restock, refurbish, dispose). Repeatable.")
    var returnLines: [String] = []
    @Option(help: "An idempotency key: the event is accepted once.") var key = ""

    func run() async throws {
        var request = Fulcrum_V1_SubmitEventRequest()
        request.event = name
        request.order = order
        request.source = "cli"
        request.idempotencyKey = key
        for field in fields {
            guard let equals = field.firstIndex(of: "=") else { throw ValidationError("--field takes KEY=VALUE, not \(field)") }
            request.fields[String(field[..<equals])] = String(field[field.index(after: equals)...])
        }
        for line in returnLines {
            let parts = line.split(separator: "=")
            let amount = parts.count == 2 ? parts[1].split(separator: ":", omittingEmptySubsequences: false) : []
            guard parts.count == 2, (1...2).contains(amount.count), let quantity = Int64(amount[0]) else {
                throw ValidationError("--return-line takes SKU=QUANTITY or SKU=QUANTITY:DISPOSITION, not \(line)")
            }
            request.returnLines.append(.with {
                $0.sku = String(parts[0])
                $0.quantity = quantity
                $0.disposition = amount.count == 2 ? String(amount[1]) : ""
            })
        }
        try await server.run { client throws(FulcrumError) in
            let answer = try await client.call(.submitEvent, request, as: Fulcrum_V1_SubmitEventResponse.self)
            return (
                .orderedObject([("sequence", .integer(Int64(answer.sequence))), ("duplicate", .bool(answer.duplicate))]),
                "accepted \(name) for \(order) as event \(answer.sequence)" + (answer.duplicate ? " (already accepted)" : ""))
        }
    }
}

/// `fulcrum reprocess ORDER-ID --server H:P`: resumes a failed journey.
struct Reprocess: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Resume an order's failed journey at its resume-on-error step.")
    @OptionGroup var server: ServerOptions
    @Argument(help: "The order id.") var order: String

    func run() async throws {
        try await server.run { client throws(FulcrumError) in
            let answer = try await client.call(
                .reprocess, Fulcrum_V1_ReprocessRequest.with {
                    $0.order = order
                    $0.source = "cli"
                }, as: Fulcrum_V1_ReprocessResponse.self)
            return (.orderedObject([("sequence", .integer(Int64(answer.sequence)))]), "reprocessing \(order) (event \(answer.sequence))")
        }
    }
}

/// `fulcrum dead-letters --provider P --server H:P [--replay MESSAGE]`.
struct DeadLetters: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dead-letters", abstract: "List the messages a provider gave up on, or replay one (its order is reprocessed).")
    @OptionGroup var server: ServerOptions
    @Option(help: "The provider (as the journey names it).") var provider: String
    @Option(help: "Replay this message.") var replay: String?

    func run() async throws {
        try await server.run { client throws(FulcrumError) in
            if let replay {
                let answer = try await client.call(
                    .replayDeadLetter, Fulcrum_V1_ReplayDeadLetterRequest.with {
                        $0.provider = provider
                        $0.message = replay
                        $0.source = "cli"
                    }, as: Fulcrum_V1_ReprocessResponse.self)
                return (.orderedObject([("sequence", .integer(Int64(answer.sequence)))]), "replaying \(replay) (event \(answer.sequence))")
            }
            let answer = try await client.call(
                .deadLetters, Fulcrum_V1_DeadLettersRequest.with { $0.provider = provider }, as: Fulcrum_V1_DeadLettersResponse.self)
            let json = JSON.array(answer.letters.map { letter in
                .orderedObject([
                    ("message", .string(letter.message.id)), ("order", .string(letter.message.order)),
                    ("topic", .string(letter.message.topic)), ("reason", .string(letter.reason)),
                    ("at_ms", .integer(letter.atMs)),
                ])
            })
            let text = answer.letters.isEmpty
                ? "no dead letters for \(provider)"
                : answer.letters.map { "\($0.message.id)  \($0.message.order)  \($0.message.topic)  \($0.reason)" }.joined(separator: "\n")
            return (json, text)
        }
    }
}

/// `fulcrum backorders --server H:P [--limit N]`: the backorder queue.
struct Backorders: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the orders waiting for stock (whole, for receipts, or the rest of them), first come first served within priority.")
    @OptionGroup var server: ServerOptions
    @Option(help: "At most this many.") var limit: UInt32 = 100

    func run() async throws {
        try await server.run { client throws(FulcrumError) in
            let answer = try await client.call(
                .backorders, Fulcrum_V1_BackordersRequest.with { $0.limit = limit }, as: Fulcrum_V1_BackordersResponse.self)
            let rows = answer.backorders.map { backorder in
                Backorder(
                    order: backorder.order, step: backorder.step, priority: backorder.priority, sinceMs: backorder.sinceMs,
                    shortages: backorder.shortages, availableWhenTried: [:],
                    onShortage: ShortagePolicy(rawValue: backorder.onShortage) ?? .backorder)
            }
            let json = JSON.array(rows.map(\.json))
            let text = rows.isEmpty
                ? "no backorders"
                : rows.map { row in
                    "\(row.order)  \(row.onShortage.rawValue)  since \(row.sinceMs)  priority \(row.priority)  short "
                        + row.shortages.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
                }.joined(separator: "\n")
            return (json, text)
        }
    }
}

/// `fulcrum records --data DIR --kind KIND`: the orchestration's stored
/// records, decoded, one JSON object a line (read-only: fulcrumd may be running).
struct Records: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the orchestration's stored records (orders, timelines, queued events, outboxes), decoded, one JSON line each.")
    @OptionGroup var data: DataOptions
    @Option(help: "order, timeline, queue, outbox, dead-letter or idempotency.") var kind: String
    @Option(help: "Only this order's records (order, timeline) or provider's (outbox, dead-letter).") var owner: String?
    @Option(help: "At most this many records.") var limit = 1_000

    func validate() throws {
        guard Service.RecordKind(rawValue: kind) != nil else {
            throw ValidationError("--kind: one of " + Service.RecordKind.allCases.map(\.rawValue).joined(separator: ", "))
        }
        guard limit >= 0 else { throw ValidationError("--limit must be at least 0") }
    }

    func run() throws {
        do throws(FulcrumError) {
            for line in try Service.records(directory: data.data, kind: Service.RecordKind(rawValue: kind)!, owner: owner, limit: limit) {
                print(line.rendered)
            }
        } catch {
            throw fail(error, json: true)
        }
    }
}

/// `fulcrum insights --server H:P [--window day] [--stuck-after-s S]`: live business KPIs.
struct Insights: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show live business KPIs over a window ending now: orders, fill and split rates, cost, savings against nearest-first, cycle times, stuck orders (docs/insights.md).")
    @OptionGroup var server: ServerOptions
    @Option(help: "hour, day, week or month.") var window = "day"
    @Option(name: .customLong("stuck-after-s"), help: "An order unchanged this long (not waiting for stock) is stuck.")
    var stuckAfterSeconds: Int64 = Limits.insightStuckAfterSecondsDefault

    func run() async throws {
        try await server.run { client throws(FulcrumError) in
            let answer = try await client.call(
                .insights, Fulcrum_V1_InsightsRequest.with {
                    $0.window = window
                    $0.stuckAfterS = stuckAfterSeconds
                }, as: Fulcrum_V1_InsightsResponse.self)
            guard let report = answer.domain else {
                throw FulcrumError(.invalidArgument, "the server answered window '\(answer.window)'", path: "window")
            }
            return (report.json, Self.text(report))
        }
    }

    static func text(_ report: InsightsReport) -> String {
        func time(_ ms: Int64) -> String { Date(timeIntervalSince1970: Double(ms) / 1000).ISO8601Format() }
        func percent(_ value: Double?) -> String { value.map { String(format: "%.1f%%", $0 * 100) } ?? "—" }
        func money(_ value: Double?) -> String { value.map { String(format: "%.2f", $0) } ?? "—" }
        func seconds(_ value: Double?) -> String { value.map { String(format: "%.1f s", $0) } ?? "—" }
        func line(_ totals: InsightTotals) -> String {
            "orders in \(totals[.ordersCreated]) (\(totals[.unitsOrdered]) units) · fill rate \(percent(totals.fillRate))"
                + " · split rate \(percent(totals.splitRate)) · cost/order \(money(totals.costPerOrder))"
                + " · saved vs nearest-first \(money(totals.savings)) (\(percent(totals.savingsRate)) of \(totals[.baselineOrders]) orders)"
        }
        let totals = report.totals
        var lines = [
            "window \(report.window.rawValue): \(time(report.fromMs)) to \(time(report.toMs))",
            line(totals),
            "shipped \(totals[.ordersShipped]) · backordered \(totals[.ordersBackordered]) (\(report.backordersWaiting) waiting now)"
                + " · cancelled \(totals[.ordersCancelled]) · failed steps \(totals[.stepsFailed])",
            "created → reserved \(seconds(totals.createdToReservedSeconds)) · → released \(seconds(totals.createdToReleasedSeconds))"
                + " · → shipped \(seconds(totals.createdToShippedSeconds))",
            "stuck orders \(report.stuckOrdersCount) (unchanged \(report.stuckAfterSeconds) s or failed) · dead letters \(report.deadLetters)"
                + " · events queued \(report.eventsQueued)",
        ]
        lines += report.stuckOrders.map { "  stuck \($0.order): \($0.state) since \(time($0.sinceMs))" + ($0.failedStep.map { ", failed at \($0)" } ?? "") }
        lines += report.channels.map { "channel \($0.channel.isEmpty ? "(none)" : $0.channel): " + line($0.totals) }
        lines += report.nodes.map { node in
            "node \(node.node): \(node.shipments) shipments, \(node.unitsReserved) units reserved, released today \(node.releasedToday)"
                + (node.capacityPerDay.map { " of \($0) (\(percent(node.utilization)))" } ?? "") + ", \(node.unitsAvailable) available"
        }
        return lines.joined(separator: "\n")
    }
}
