import ArgumentParser
import Foundation
import FulcrumClient
import FulcrumCore
import FulcrumService
import FulcrumWire
import NIOCore
import Synchronization

/// `fulcrum bench --server H:P --op health|atp|reserve|optimize-and-reserve --clients N --duration-seconds S`:
/// a closed-loop load generator. Each client is one connection; with
/// `--pipeline W` a client keeps W requests in flight (one flush per window).
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load a running fulcrumd and print throughput and latency percentiles.")

    enum Operation: String, ExpressibleByArgument, CaseIterable {
        /// A no-op round trip: what the protocol alone costs, the floor under the others.
        case health
        case atp, reserve
        case optimizeAndReserve = "optimize-and-reserve"
        /// order.created events through the server's journeys (fulcrumd --demo).
        case orders
    }

    @OptionGroup var server: ServerOptions
    @Option(help: """
        health (a no-op round trip: the protocol's floor), atp, reserve (2 lines, durable), optimize-and-reserve (5 lines × 100 nodes), or orders (order.created         events through the journeys of a fulcrumd started with --demo; reports intake and journeys completed per second).
        """) var op: Operation
    @Option(help: "Concurrent connections.") var clients = 64
    @Option(help: "Seconds to run.") var durationSeconds = 10.0
    @Option(help: "Requests each client keeps in flight.") var pipeline = 1
    @Option(help: "Seed of the generated stock and orders.") var seed: UInt64 = 7
    @Option(help: "atp: read from this replica (HOST:PORT, a cluster's follower, say) once --server has the stock.")
    var readFrom: String?
    @Flag(help: """
        optimize-and-reserve: send orders without nodes; the server ships from its own network, \
        started with --network from `fulcrum generate --network --seed S` (the same seed).
        """)
    var serverNetwork = false

    /// The bench's own stock: large enough that nothing runs out.
    static let benchNodes = (0..<10).map { "BENCH-N\($0)" }
    static let benchSKUs = (0..<100).map { "BENCH-S\($0)" }
    static let plentyUnits: Int64 = 1_000_000_000

    func validate() throws {
        guard clients >= 1, clients <= Limits.connectionsMax else { throw ValidationError("--clients must be in 1...\(Limits.connectionsMax)") }
        guard durationSeconds > 0 else { throw ValidationError("--duration-seconds must be positive") }
        guard pipeline >= 1, pipeline <= 1024 else { throw ValidationError("--pipeline must be in 1...1024") }
        if readFrom != nil && op != .atp { throw ValidationError("--read-from goes with --op atp") }
    }

    func run() async throws {
        do {
            let setup = try await server.connect()
            let workload = try await prepare(setup)
            await setup.close()
            let run = "\(UInt64(Date().timeIntervalSince1970 * 1000))"
            let orders = OrderNumbers()
            let started = ContinuousClock.now
            let deadline = started + .milliseconds(Int64(durationSeconds * 1000))
            let tallies = try await withThrowingTaskGroup(of: Tally.self) { group in
                for index in 0..<clients {
                    let client = try await server.connection.connect(readFrom ?? server.server, token: server.token)
                    group.addTask {
                        let tally = await drive(
                            client, workload: workload, client: index, orders: orders, run: run, until: deadline)
                        await client.close()
                        return tally
                    }
                }
                var total = Tally()
                for try await tally in group { total.merge(tally) }
                return total
            }
            report(tallies, seconds: (ContinuousClock.now - started).seconds)
            if op == .orders {
                let setup = try await server.connect()
                try await reportJourneys(setup, accepted: tallies.latenciesNanoseconds.count, started: started)
                await setup.close()
            }
        } catch let error as FulcrumError {
            throw fail(error, json: server.json)
        }
    }

    /// Stock for the operation, written through the server; for
    /// optimize-and-reserve, the generated network and one order's template.
    private func prepare(_ client: FulcrumClient) async throws(FulcrumError) -> Workload {
        switch op {
        case .health:
            return Workload(optimize: nil)
        case .atp, .reserve:
            let items = Self.benchNodes.flatMap { node in
                Self.benchSKUs.map { sku in
                    Fulcrum_V1_AdjustRequest.with {
                        $0.node = node
                        $0.sku = sku
                        $0.set = Self.plentyUnits
                        $0.reason = "bench stock"
                    }
                }
            }
            try await adjust(client, items)
            return Workload(optimize: nil)
        case .orders:
            // The demo network's nodes and SKUs, with stock that does not run out.
            let items = DemoData.network.nodes.flatMap { node in
                DemoData.skus.map { sku in
                    Fulcrum_V1_AdjustRequest.with {
                        $0.node = node.id
                        $0.sku = sku
                        $0.set = Self.plentyUnits
                        $0.reason = "bench stock"
                    }
                }
            }
            try await adjust(client, items)
            return Workload(optimize: nil)
        case .optimizeAndReserve:
            var synthetic = SyntheticWorkload(seed: seed, nodeCount: 100, skuCount: 200)
            let items = synthetic.inventory.map { stock in
                Fulcrum_V1_AdjustRequest.with {
                    $0.node = stock.node
                    $0.sku = stock.sku
                    $0.set = Self.plentyUnits
                    $0.reason = "bench stock"
                }
            }
            try await adjust(client, items)
            let orders = (0..<64).map { index in
                var request = synthetic.request(orderCount: 1, linesPerOrder: 5, firstOrder: index)
                request.inventory = nil
                if serverNetwork { request.nodes = [] }
                return request
            }
            return Workload(optimize: orders)
        }
    }

    private func adjust(_ client: FulcrumClient, _ items: [Fulcrum_V1_AdjustRequest]) async throws(FulcrumError) {
        for start in stride(from: 0, to: items.count, by: Limits.batchItemsMax) {
            let batch = Array(items[start..<min(items.count, start + Limits.batchItemsMax)])
            let response = try await client.adjustBatch(.with { $0.items = batch })
            if let failed = response.items.first(where: { $0.error.code != "" }) {
                throw FulcrumError(wire: failed.error)
            }
        }
    }

    private func drive(
        _ client: FulcrumClient, workload: Workload, client index: Int, orders: OrderNumbers, run: String,
        until deadline: ContinuousClock.Instant
    ) async -> Tally {
        var random = SplitMix64(seed: seed &+ UInt64(index) &* 0x9E37_79B9)
        var tally = Tally()
        while ContinuousClock.now < deadline {
            let requests = (0..<pipeline).map { _ -> (opcode: Opcode, payload: ByteBuffer) in
                request(workload, &random, order: { "bench-\(run)-\(orders.next())" })
            }
            let sent = ContinuousClock.now
            let results = await client.pipeline(requests)
            let nanoseconds = UInt64((ContinuousClock.now - sent).nanoseconds)
            for result in results {
                switch result {
                case .success:
                    tally.latenciesNanoseconds.append(nanoseconds)
                case .failure(let error):
                    tally.errors += 1
                    if tally.firstError == nil { tally.firstError = error }
                }
            }
        }
        return tally
    }

    /// One request; `order` numbers an order only for the operations that make one.
    private func request(_ workload: Workload, _ random: inout SplitMix64, order: () -> String)
        -> (opcode: Opcode, payload: ByteBuffer)
    {
        let node = Self.benchNodes[Int(random.next() % UInt64(Self.benchNodes.count))]
        let first = Int(random.next() % UInt64(Self.benchSKUs.count))
        switch op {
        case .health:
            return (.health, Fulcrum_V1_HealthRequest().payload())
        case .atp:
            return (.atp, Fulcrum_V1_AtpRequest.with { $0.sku = Self.benchSKUs[first]; $0.node = node }.payload())
        case .reserve:
            let second = (first + 1 + Int(random.next() % UInt64(Self.benchSKUs.count - 1))) % Self.benchSKUs.count
            let request = Fulcrum_V1_ReserveRequest.with {
                $0.order = order()
                $0.ttlSeconds = 60
                $0.lines = [first, second].map { sku in
                    .with { $0.node = node; $0.sku = Self.benchSKUs[sku]; $0.quantity = 1 }
                }
            }
            return (.reserve, request.payload())
        case .orders:
            let id = "bench-\(order())"
            let second = (first + 1) % DemoData.skus.count
            return (.submitEvent, Fulcrum_V1_SubmitEventRequest.with {
                $0.event = "order.created"
                $0.order = id
                $0.source = "bench"
                $0.intake = .with {
                    $0.id = id
                    $0.source = "bench"
                    $0.shipTo = .with {
                        $0.latitude = 30 + Double(random.next() % 1_500) / 100
                        $0.longitude = -120 + Double(random.next() % 4_500) / 100
                    }
                    $0.lines = [
                        .with { $0.id = "1"; $0.sku = DemoData.skus[first % DemoData.skus.count]; $0.quantity = 1 },
                        .with { $0.id = "2"; $0.sku = DemoData.skus[second]; $0.quantity = 2 },
                    ]
                }
            }.payload())
        case .optimizeAndReserve:
            var template = workload.optimize![Int(random.next() % UInt64(workload.optimize!.count))]
            template.orders[0].id = order()
            return (.optimizeAndReserve, Fulcrum_V1_OptimizeAndReserveRequest.with {
                $0.problem = .init(template)
                $0.ttlSeconds = 60
            }.payload())
        }
    }

    /// Waits (up to 10 minutes) until the server has processed every event,
    /// and reports accepted orders over the time from the first submit.
    private func reportJourneys(_ client: FulcrumClient, accepted: Int, started: ContinuousClock.Instant) async throws(FulcrumError) {
        let deadline = ContinuousClock.now + .seconds(600)
        while try await client.stats().eventsQueued > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        let seconds = (ContinuousClock.now - started).seconds
        let perSecond = Double(accepted) / seconds
        if server.json {
            print(JSON.orderedObject([
                ("journeys", .integer(Int64(accepted))), ("journey_seconds", .number(seconds)), ("journeys_per_second", .number(perSecond)),
            ]).rendered)
        } else {
            print(String(format: "journeys: %d orders reserved and released to fulfillment in %.1f s → %.0f orders/s", accepted, seconds, perSecond))
        }
    }

    private func report(_ tally: Tally, seconds: Double) {
        let sorted = tally.latenciesNanoseconds.sorted()
        func percentileMilliseconds(_ fraction: Double) -> Double {
            sorted.isEmpty ? 0 : Double(sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]) / 1e6
        }
        let perSecond = Double(sorted.count) / seconds
        if server.json {
            var fields: [(String, JSON)] = [
                ("op", .string(op.rawValue)), ("clients", .integer(Int64(clients))), ("pipeline", .integer(Int64(pipeline))),
                ("seconds", .number(seconds)), ("ok", .integer(Int64(sorted.count))), ("errors", .integer(Int64(tally.errors))),
                ("per_second", .number(perSecond)), ("p50_ms", .number(percentileMilliseconds(0.5))),
                ("p90_ms", .number(percentileMilliseconds(0.9))), ("p99_ms", .number(percentileMilliseconds(0.99))),
                ("max_ms", .number(percentileMilliseconds(1))),
            ]
            if let error = tally.firstError { fields.append(("first_error", .string("\(error)"))) }
            print(JSON.orderedObject(fields).rendered)
        } else {
            print(String(
                format: "%@: %d clients × pipeline %d, %.1f s: %d ok, %d errors → %.0f/s; latency p50 %.3f ms, p90 %.3f ms, p99 %.3f ms, max %.3f ms",
                op.rawValue, clients, pipeline, seconds, sorted.count, tally.errors, perSecond,
                percentileMilliseconds(0.5), percentileMilliseconds(0.9), percentileMilliseconds(0.99), percentileMilliseconds(1)))
            if let error = tally.firstError { print("first error: \(error)") }
        }
    }
}

/// Order numbers shared by all clients, increasing like a shop's: zero-padded
/// so that byte order is numeric order.
private final class OrderNumbers: Sendable {
    private let last = Atomic<Int>(0)
    func next() -> String {
        let number = String(last.wrappingAdd(1, ordering: .relaxed).newValue)
        return String(repeating: "0", count: max(0, 12 - number.count)) + number
    }
}

/// What the clients send, prepared once.
private struct Workload: Sendable {
    var optimize: [OptimizeRequest]?
}

/// One client's results.
private struct Tally: Sendable {
    var latenciesNanoseconds: [UInt64] = []
    var errors = 0
    var firstError: FulcrumError?

    mutating func merge(_ other: Tally) {
        latenciesNanoseconds += other.latenciesNanoseconds
        errors += other.errors
        if firstError == nil { firstError = other.firstError }
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
    var nanoseconds: Int64 { components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000 }
}
