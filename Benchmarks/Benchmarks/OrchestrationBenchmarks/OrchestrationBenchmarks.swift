// Orders through a journey (intake → optimize and reserve → fulfillment
// orders: every event durable, every step one transaction with its timeline)
// beside the same work called directly (optimize-and-reserve, then confirm:
// what an order service without orchestration would do). Both on the demo
// network with ample stock, 64 orders in flight; orders/s = orders over wall time.
import Benchmark
import Foundation
import FulcrumCore
import FulcrumLedger
import FulcrumOrchestration
import FulcrumService
import FulcrumSolver

let benchmarks: @Sendable () -> Void = {
    let orderCount = 1_000
    let configuration = Benchmark.Configuration(
        metrics: [.wallClock, ordersPerSecond], warmupIterations: 1, maxDuration: .seconds(30), maxIterations: 10)
    let journeys = """
        version: 1
        journeys:
          - id: fulfillment
            steps:
              - {id: source, on: [order.created], action: optimize_and_reserve}
              - {id: release, on: [order.reserved], action: create_fulfillment_orders}
        """

    Benchmark("journey: intake, optimize and reserve, fulfillment orders (1,000 orders)", configuration: configuration) { benchmark in
        let service = try! await stockedService()
        let orchestrator = try! await Orchestrator(backend: service, book: try! JourneyBook.decode(yaml: journeys, file: "bench"))
        let started = ContinuousClock.now
        benchmark.startMeasurement()
        await inFlight(orderCount) { index in
            _ = try! await orchestrator.submit(intake(index))
        }
        let idle = await orchestrator.waitUntilIdle(timeoutMilliseconds: 120_000)
        precondition(idle)
        benchmark.stopMeasurement()
        let seconds = (ContinuousClock.now - started) / .seconds(1)
        precondition(try! orchestrator.load("O-\(orderCount - 1)")?.state == OrderStates.released)
        benchmark.measurement(ordersPerSecond, Int(Double(orderCount) / seconds))
        service.close()
    }

    Benchmark("direct: optimize-and-reserve then confirm (1,000 orders)", configuration: configuration) { benchmark in
        let service = try! await stockedService()
        let started = ContinuousClock.now
        benchmark.startMeasurement()
        await inFlight(orderCount) { index in
            let event = intake(index).intake!
            let order = Order(
                id: event.id, shipTo: Location(latitude: event.shipTo.latitude!, longitude: event.shipTo.longitude!),
                lines: event.lines.map { Line(id: $0.id, sku: $0.sku, quantity: Int($0.quantity)) })
            let reserved = try! await service.optimizeAndReserve(
                OptimizeRequest(orders: [order], nodes: service.network.nodes), options: .init(), ttlSeconds: 3_600)
            precondition(reserved.reservation != nil)
            _ = try! await service.confirm(order: event.id)
        }
        benchmark.stopMeasurement()
        let seconds = (ContinuousClock.now - started) / .seconds(1)
        benchmark.measurement(ordersPerSecond, Int(Double(orderCount) / seconds))
        service.close()
    }
}

let ordersPerSecond = BenchmarkMetric.custom("orders/s", polarity: .prefersLarger, useScalingFactor: false)

/// A throwaway ledger with the demo network and a billion units of each demo SKU everywhere.
func stockedService() async throws -> Service {
    var options = Ledger.Options()
    options.durable = false
    let ledger = try Ledger(directory: NSTemporaryDirectory() + "fulcrum-bench-\(UUID().uuidString)", options: options)
    for node in DemoData.network.nodes.map(\.id) {
        for sku in DemoData.skus {
            _ = try await ledger.adjust(.init(node: node, sku: sku, change: .set(1_000_000_000)))
        }
    }
    return Service(ledger: ledger, network: DemoData.network)
}

/// Order `index`: two demo SKUs to a point in the continental US (seeded).
func intake(_ index: Int) -> BusinessEvent {
    var random = SplitMix64(seed: UInt64(index))
    let latitude = 30 + Double(random.next() % 1_500) / 100
    let longitude = -120 + Double(random.next() % 4_500) / 100
    let first = Int(random.next() % UInt64(DemoData.skus.count))
    let second = (first + 1) % DemoData.skus.count
    let order = OrderIntake(
        id: "O-\(index)", source: "bench", shipTo: Address(latitude: latitude, longitude: longitude),
        lines: [.init(id: "1", sku: DemoData.skus[first], quantity: 1), .init(id: "2", sku: DemoData.skus[second], quantity: 2)])
    return BusinessEvent(name: BusinessEvent.orderCreated, order: order.id, intake: order, source: "bench")
}

/// Runs `body` for 0..<count with at most 64 running at once.
func inFlight(_ count: Int, _ body: @escaping @Sendable (Int) async -> Void) async {
    await withTaskGroup(of: Void.self) { group in
        for index in 0..<count {
            if index >= 64 { await group.next() }
            group.addTask { await body(index) }
        }
    }
}
