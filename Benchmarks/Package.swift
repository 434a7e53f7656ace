// swift-tools-version:6.1
// Fulcrum's benchmarks: a package of their own, so that `swift test` in the
// root never builds the benchmark harness. Run with `make benchmarks`.
import PackageDescription

/// One benchmark executable over some of Fulcrum's libraries.
func benchmarkTarget(_ name: String, _ products: [String]) -> Target {
    .executableTarget(
        name: name,
        dependencies: [.product(name: "Benchmark", package: "benchmark")]
            + products.map { .product(name: $0, package: "Fulcrum") },
        path: "Benchmarks/\(name)",
        plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
    )
}

let package = Package(
    name: "FulcrumBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Fulcrum", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        benchmarkTarget("LedgerBenchmarks", ["FulcrumLedger", "FulcrumStorage"]),
        benchmarkTarget("SolverBenchmarks", ["FulcrumSolver"]),
        benchmarkTarget("ReplayBenchmarks", ["FulcrumCore", "FulcrumReplay"]),
        benchmarkTarget("JSONBenchmarks", ["FulcrumCore"]),
        benchmarkTarget(
            "OrchestrationBenchmarks", ["FulcrumCore", "FulcrumLedger", "FulcrumOrchestration", "FulcrumService", "FulcrumSolver"]),
    ]
)
