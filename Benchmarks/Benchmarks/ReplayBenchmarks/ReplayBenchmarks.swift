// Replay throughput: scenarios/peak-week (100,000 orders) with the optimal
// strategy beside greedy nearest-first (what a shop runs instead), and the
// small demo with every strategy. Each iteration is a whole replay on a fresh
// embedded ledger; the orders/s metric is orders over the replay's wall time.
import Benchmark
import Foundation
import FulcrumCore
import FulcrumReplay

let benchmarks: @Sendable () -> Void = {
    let scenarios = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("scenarios").path

    func replay(_ name: String, _ strategy: Strategy, configuration: Benchmark.Configuration) {
        Benchmark("\(name) replay: \(strategy.rawValue)", configuration: configuration) { benchmark in
            let expanded = ExpandedScenario(try! Scenario.load(path: "\(scenarios)/\(name)"))
            benchmark.startMeasurement()
            let report = try! await Replayer.embedded(expanded, strategies: [strategy])
            benchmark.stopMeasurement()
            benchmark.measurement(ordersPerSecond, Int(report.strategies[0].timing.ordersPerSecond))
        }
    }

    let peak = Benchmark.Configuration(
        metrics: [.wallClock, ordersPerSecond], warmupIterations: 0, maxDuration: .seconds(120), maxIterations: 2)
    for strategy in [Strategy.optimal, .greedyNearest] { replay("peak-week", strategy, configuration: peak) }

    let demo = Benchmark.Configuration(
        metrics: [.wallClock, ordersPerSecond], warmupIterations: 1, maxDuration: .seconds(10), maxIterations: 20)
    for strategy in Strategy.allCases { replay("demo", strategy, configuration: demo) }
}

let ordersPerSecond = BenchmarkMetric.custom("orders/s", polarity: .prefersLarger, useScalingFactor: false)
