// swift-tools-version:6.1
// Fulcrum: fulfillment optimization and inventory server.
// Arrows point one way: FulcrumCore <- FulcrumStorage <- FulcrumLedger <- executables;
// FulcrumCore <- FulcrumSolver <- executables.
import PackageDescription

let package = Package(
    name: "Fulcrum",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "FulcrumCore", targets: ["FulcrumCore"]),
        .library(name: "FulcrumStorage", targets: ["FulcrumStorage"]),
        .library(name: "FulcrumLedger", targets: ["FulcrumLedger"]),
        .library(name: "FulcrumSolver", targets: ["FulcrumSolver"]),
        .executable(name: "fulcrum", targets: ["fulcrum"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // C libraries from Debian packages, wrapped as system-library targets.
        .systemLibrary(name: "CLMDB", pkgConfig: "lmdb", providers: [.apt(["liblmdb-dev"])]),
        .systemLibrary(name: "CGLPK", providers: [.apt(["libglpk-dev"])]),
        .systemLibrary(name: "CJemalloc", providers: [.apt(["libjemalloc-dev"])]),

        .target(name: "FulcrumCore"),
        .target(name: "FulcrumStorage", dependencies: ["CLMDB", "FulcrumCore"]),
        .target(name: "FulcrumLedger", dependencies: ["FulcrumCore", "FulcrumStorage"]),
        // GLPK calls guarded by an error hook, so a GLPK error cannot abort the process.
        .target(name: "CGLPKShim", linkerSettings: [.linkedLibrary("glpk")]),
        .target(name: "FulcrumSolver", dependencies: ["CGLPK", "CGLPKShim", "FulcrumCore"]),
        .executableTarget(
            name: "fulcrum",
            dependencies: [
                "CJemalloc", "FulcrumCore", "FulcrumLedger", "FulcrumSolver",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        .target(name: "FulcrumTestSupport", path: "Tests/FulcrumTestSupport"),
        .testTarget(name: "FulcrumCoreTests", dependencies: ["FulcrumCore"]),
        .testTarget(name: "FulcrumStorageTests", dependencies: ["FulcrumStorage"]),
        .testTarget(name: "FulcrumLedgerTests", dependencies: ["FulcrumLedger", "FulcrumStorage", "FulcrumTestSupport", "fulcrum"]),
        .testTarget(name: "FulcrumSolverTests", dependencies: ["CGLPK", "CGLPKShim", "FulcrumSolver", "FulcrumTestSupport", "fulcrum"]),
    ]
)
