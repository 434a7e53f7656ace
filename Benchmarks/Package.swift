// swift-tools-version:6.1
// Fulcrum's benchmarks: a package of their own, so that `swift test` in the
// root never builds the benchmark harness. Run with `make benchmarks`.
import PackageDescription

let package = Package(
    name: "FulcrumBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Fulcrum", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "LedgerBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "FulcrumLedger", package: "Fulcrum"),
                .product(name: "FulcrumStorage", package: "Fulcrum"),
            ],
            path: "Benchmarks/LedgerBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "SolverBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "FulcrumSolver", package: "Fulcrum"),
            ],
            path: "Benchmarks/SolverBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
