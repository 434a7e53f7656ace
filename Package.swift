// swift-tools-version:6.1
// Fulcrum: fulfillment optimization and inventory server.
// Arrows point one way. FulcrumCore holds the domain's values (the optimize contract, positions,
// reservations, commands, orders and events), errors, limits and JSON; behind it:
// FulcrumCore <- FulcrumStorage (LMDB) <- FulcrumLedger <- FulcrumOrchestration <- FulcrumService;
// FulcrumLedger <- FulcrumReplication (etcd) <- FulcrumService;
// FulcrumCore <- FulcrumSolver (GLPK) <- FulcrumService; FulcrumCore <- FulcrumConfig (YAML).
// Front ends call FulcrumService and never the ledger, solver or orchestration:
// FulcrumService <- {FulcrumServer (+ FulcrumWire), FulcrumGateway (+ FulcrumHTTP), FulcrumReplay, fulcrum} <- fulcrumd;
// FulcrumWire <- FulcrumClient <- FulcrumShims (+ FulcrumHTTP) <- fulcrum. The orchestration reaches
// the ledger only through the port Service provides.
import PackageDescription

let package = Package(
    name: "Fulcrum",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "FulcrumCore", targets: ["FulcrumCore"]),
        .library(name: "FulcrumStorage", targets: ["FulcrumStorage"]),
        .library(name: "FulcrumLedger", targets: ["FulcrumLedger"]),
        .library(name: "FulcrumReplication", targets: ["FulcrumReplication"]),
        .library(name: "FulcrumSolver", targets: ["FulcrumSolver"]),
        .library(name: "FulcrumService", targets: ["FulcrumService"]),
        .library(name: "FulcrumWire", targets: ["FulcrumWire"]),
        .library(name: "FulcrumServer", targets: ["FulcrumServer"]),
        .library(name: "FulcrumClient", targets: ["FulcrumClient"]),
        .library(name: "FulcrumConfig", targets: ["FulcrumConfig"]),
        .library(name: "FulcrumReplay", targets: ["FulcrumReplay"]),
        .library(name: "FulcrumOrchestration", targets: ["FulcrumOrchestration"]),
        .library(name: "FulcrumGateway", targets: ["FulcrumGateway"]),
        .library(name: "FulcrumShims", targets: ["FulcrumShims"]),
        .library(name: "FulcrumGazetteer", targets: ["FulcrumGazetteer"]),
        .executable(name: "fulcrum", targets: ["fulcrum"]),
        .executable(name: "fulcrumd", targets: ["fulcrumd"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/yaslab/CSV.swift", from: "2.5.2"),
    ],
    targets: [
        // C libraries from Debian packages, wrapped as system-library targets.
        .systemLibrary(name: "CLMDB", pkgConfig: "lmdb", providers: [.apt(["liblmdb-dev"])]),
        .systemLibrary(name: "CGLPK", providers: [.apt(["libglpk-dev"])]),
        .systemLibrary(name: "CJemalloc", providers: [.apt(["libjemalloc-dev"])]),

        // CRC32C of stored values and of snapshots (the SSE4.2 instruction when there is one).
        .target(name: "CChecksum"),
        .target(name: "FulcrumCore", dependencies: ["CChecksum"]),
        .target(name: "FulcrumStorage", dependencies: ["CLMDB", "CChecksum", "FulcrumCore"]),
        .target(
            name: "FulcrumLedger",
            dependencies: ["FulcrumCore", "FulcrumStorage", .product(name: "Metrics", package: "swift-metrics")]
        ),
        // GLPK calls guarded by an error hook, so a GLPK error cannot abort the process.
        .target(name: "CGLPKShim", linkerSettings: [.linkedLibrary("glpk")]),
        .target(name: "FulcrumSolver", dependencies: ["CGLPK", "CGLPKShim", "FulcrumCore"]),
        // jemalloc, linked by the executables only.
        .target(name: "FulcrumAllocator", dependencies: ["CJemalloc"]),
        // The offline gazetteer (data from PyPI packages, scripts/build-gazetteer.py; NOTICE).
        .target(name: "FulcrumGazetteer", dependencies: ["FulcrumCore"], resources: [.copy("gazetteer.tsv")]),
        // A ledger as a replica of a cluster: the log and the leader's lease in etcd (its JSON gateway).
        .target(
            name: "FulcrumReplication",
            dependencies: [
                "FulcrumCore", "FulcrumLedger", .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "FulcrumService",
            dependencies: [
                "FulcrumConfig", "FulcrumCore", "FulcrumGazetteer", "FulcrumLedger", "FulcrumOrchestration",
                "FulcrumReplication", "FulcrumSolver", .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The RPC protocol: frames, their codec, and the protobuf payloads
        // (generated from fulcrum.proto by `make proto`, committed).
        .target(
            name: "FulcrumWire",
            dependencies: [
                "FulcrumCore", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            exclude: ["fulcrum.proto"]
        ),
        // TLS contexts from PEM files (server, reloadable; client with its CA), errors typed.
        .target(
            name: "FulcrumTLS",
            dependencies: [
                "FulcrumCore", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // HTTP listeners (Hummingbird) and typed errors as HTTP answers: the gateway's and the shims'.
        .target(
            name: "FulcrumHTTP",
            dependencies: [
                "FulcrumCore", "FulcrumTLS", .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The HTTP/JSON gateway (Hummingbird) over the service.
        .target(
            name: "FulcrumGateway",
            dependencies: [
                "FulcrumCore", "FulcrumHTTP", "FulcrumService", "FulcrumTLS",
                .product(name: "Hummingbird", package: "hummingbird"), .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // YAML configuration files read field by field, errors at file:line:column.
        .target(name: "FulcrumConfig", dependencies: ["FulcrumCore", .product(name: "Yams", package: "Yams")]),
        // Journeys: state framework, business events, policies, provider outboxes, timelines.
        .target(
            name: "FulcrumOrchestration",
            dependencies: ["FulcrumConfig", "FulcrumCore", "FulcrumLedger", "FulcrumSolver"]
        ),
        // Provider shims: webhook intake (Shopify, BigCommerce-style, WMS shipments), file drops,
        // mapping groups, outbound webhooks with retries; each speaks the binary RPC to fulcrumd.
        .target(
            name: "FulcrumShims",
            dependencies: [
                "FulcrumClient", "FulcrumConfig", "FulcrumCore", "FulcrumHTTP", "FulcrumWire",
                .product(name: "AsyncHTTPClient", package: "async-http-client"), .product(name: "CSV", package: "CSV.swift"),
                .product(name: "Hummingbird", package: "hummingbird"), .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"), .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // Scenario replays: scenario files, simulated time, KPI reports.
        .target(
            name: "FulcrumReplay",
            dependencies: [
                "FulcrumConfig", "FulcrumCore", "FulcrumService", .product(name: "Yams", package: "Yams"),
            ]
        ),
        .target(
            name: "FulcrumServer",
            dependencies: [
                "FulcrumCore", "FulcrumService", "FulcrumTLS", "FulcrumWire",
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "FulcrumClient",
            dependencies: [
                "FulcrumCore", "FulcrumTLS", "FulcrumWire", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "fulcrum",
            dependencies: [
                "FulcrumAllocator", "FulcrumClient", "FulcrumConfig", "FulcrumCore", "FulcrumHTTP",
                "FulcrumReplay", "FulcrumService", "FulcrumShims", "FulcrumTLS",
                "FulcrumWire", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "fulcrumd",
            dependencies: [
                "FulcrumAllocator", "FulcrumClient", "FulcrumConfig", "FulcrumCore", "FulcrumGateway", "FulcrumServer",
                "FulcrumService", "FulcrumTLS",
                "FulcrumWire", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Metrics", package: "swift-metrics"), .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"), .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        .target(name: "FulcrumTestSupport", path: "Tests/FulcrumTestSupport"),
        .testTarget(name: "FulcrumCoreTests", dependencies: ["FulcrumCore"]),
        .testTarget(name: "FulcrumStorageTests", dependencies: ["FulcrumStorage"]),
        .testTarget(name: "FulcrumLedgerTests", dependencies: ["CLMDB", "FulcrumLedger", "FulcrumStorage", "FulcrumTestSupport", "fulcrum"]),
        .testTarget(
            name: "FulcrumServerTests",
            dependencies: [
                "FulcrumClient", "FulcrumCore", "FulcrumLedger", "FulcrumServer", "FulcrumService", "FulcrumSolver",
                "FulcrumTestSupport", "FulcrumTLS", "FulcrumWire", "fulcrum", "fulcrumd",
                .product(name: "AsyncHTTPClient", package: "async-http-client"), .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"), .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"), .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            exclude: ["python"]
        ),
        .testTarget(
            name: "FulcrumGatewayTests",
            dependencies: [
                "FulcrumClient", "FulcrumCore", "FulcrumGateway", "FulcrumLedger", "FulcrumService", "FulcrumTestSupport", "FulcrumWire",
                "fulcrum", "fulcrumd", .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "FulcrumReplayTests",
            dependencies: ["FulcrumCore", "FulcrumReplay", "FulcrumSolver", "FulcrumTestSupport", "fulcrum", "fulcrumd"]
        ),
        .testTarget(
            name: "FulcrumOrchestrationTests",
            dependencies: ["FulcrumCore", "FulcrumLedger", "FulcrumOrchestration", "FulcrumService", "FulcrumSolver", "FulcrumTestSupport"]
        ),
        .testTarget(
            name: "FulcrumShimTests",
            dependencies: [
                "FulcrumClient", "FulcrumCore", "FulcrumHTTP", "FulcrumOrchestration", "FulcrumShims", "FulcrumTestSupport",
                "FulcrumWire", "fulcrum", "fulcrumd", .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"), .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"), .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "FulcrumServiceTests",
            dependencies: ["FulcrumConfig", "FulcrumCore", "FulcrumGazetteer", "FulcrumLedger", "FulcrumService", "FulcrumSolver", "FulcrumTestSupport"]
        ),
        .testTarget(
            name: "FulcrumWireTests",
            dependencies: [
                "FulcrumCore", "FulcrumWire", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "FulcrumClientTests",
            dependencies: [
                "FulcrumClient", "FulcrumCore", "FulcrumWire", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"), .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        .testTarget(name: "FulcrumConfigTests", dependencies: ["FulcrumConfig", "FulcrumCore"]),
        .testTarget(name: "FulcrumReplicationTests", dependencies: ["FulcrumCore", "FulcrumReplication"]),
        // Documented shapes (OpenAPI, protocol, optimize contract, scenarios) against the vocabulary.
        .testTarget(name: "VocabularyTests", dependencies: [.product(name: "Yams", package: "Yams")]),
        .testTarget(name: "FulcrumSolverTests", dependencies: ["CGLPK", "CGLPKShim", "FulcrumSolver", "FulcrumTestSupport", "fulcrum"]),
    ]
)
