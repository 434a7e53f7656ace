// Optimize requests read from JSON: the fast reader (JSONReader, what
// `OptimizeRequest.decode` uses for good input) beside Foundation's
// JSONDecoder with the Decodable conformances (the reference, and what every
// request paid before), on the same bytes: one order of 5 lines × 100 nodes
// with every node's stock of its SKUs (46 KB), and a batch of 50 orders of 3
// lines (547 KB). MB/s is input bytes over wall time.
import Benchmark
import Foundation
import FulcrumCore

let benchmarks: @Sendable () -> Void = {
    let configuration = Benchmark.Configuration(
        metrics: [.wallClock, .mallocCountTotal, megabytesPerSecond], warmupIterations: 10,
        maxDuration: .seconds(5), maxIterations: 2_000)

    var workload = SyntheticWorkload(seed: 7, nodeCount: 100, skuCount: 200, stockedPercent: 100)
    let shapes: [(String, Data)] = [
        ("one order, 5 lines × 100 nodes", workload.request(orderCount: 1, linesPerOrder: 5).json()),
        ("batch of 50 orders, 3 lines × 100 nodes", workload.request(orderCount: 50, linesPerOrder: 3).json()),
    ]
    for (shape, json) in shapes {
        Benchmark("JSONReader: \(shape)", configuration: configuration) { benchmark in
            let started = ContinuousClock.now
            for _ in benchmark.scaledIterations {
                blackHole(json.withUnsafeBytes { OptimizeRequest.read(json: $0)! })
            }
            benchmark.measurement(megabytesPerSecond, rate(json.count, benchmark.scaledIterations.count, since: started))
        }
        Benchmark("Foundation JSONDecoder: \(shape)", configuration: configuration) { benchmark in
            let started = ContinuousClock.now
            for _ in benchmark.scaledIterations {
                blackHole(try! OptimizeRequest.decodeWithFoundation(json: json))
            }
            benchmark.measurement(megabytesPerSecond, rate(json.count, benchmark.scaledIterations.count, since: started))
        }
    }
}

/// Megabytes (10^6 bytes) per second over the iterations since `started`.
func rate(_ bytes: Int, _ iterations: Int, since started: ContinuousClock.Instant) -> Int {
    let elapsed = (ContinuousClock.now - started).components
    let seconds = Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18
    return Int(Double(bytes * iterations) / seconds / 1e6)
}

let megabytesPerSecond = BenchmarkMetric.custom("MB/s", polarity: .prefersLarger, useScalingFactor: false)
