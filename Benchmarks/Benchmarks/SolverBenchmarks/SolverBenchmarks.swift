// The DOM solver's hot paths, each beside the greedy baselines a user would
// pick instead, on the same seeded requests (a 100-node synthetic US network).
import Benchmark
import FulcrumCore
import FulcrumSolver

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput], warmupIterations: 3, maxDuration: .seconds(6), maxIterations: 10_000)

    for strategy in Strategy.allCases {
        Benchmark("Single order, 5 lines x 100 nodes: \(strategy.rawValue)") { benchmark in
            let requests = SingleOrders.shared.requests
            let options = Optimizer.Options(strategy: strategy)
            for index in benchmark.scaledIterations {
                Benchmark.blackHole(try! Optimizer.solve(requests[index % requests.count], options: options).objective)
            }
        }
    }

    let batch = Benchmark.Configuration(
        metrics: [.wallClock, gapMetric], warmupIterations: 0, maxDuration: .seconds(30), maxIterations: 3)
    Benchmark("Batch, 200 orders x 5 lines x 100 nodes: optimal, 2 s limit", configuration: batch) { benchmark in
        var workload = SyntheticWorkload(seed: 7, nodeCount: 100, skuCount: 200)
        let request = workload.request(orderCount: 200, linesPerOrder: 5)
        benchmark.startMeasurement()
        let response = try! Optimizer.solve(request, options: .init(timeLimitMilliseconds: 2_000))
        benchmark.stopMeasurement()
        benchmark.measurement(gapMetric, Int(response.statistics.gap * 10_000))
    }
}

let gapMetric = BenchmarkMetric.custom("gap (basis points)", useScalingFactor: false)

/// 100 seeded single-order requests, built once.
final class SingleOrders: Sendable {
    static let shared = SingleOrders()
    let requests: [OptimizeRequest]

    private init() {
        var workload = SyntheticWorkload(seed: 42, nodeCount: 100, skuCount: 200)
        requests = (0..<100).map { workload.request(orderCount: 1, linesPerOrder: 5, firstOrder: $0) }
    }
}
