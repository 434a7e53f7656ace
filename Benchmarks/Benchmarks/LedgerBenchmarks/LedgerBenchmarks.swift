// In-process benchmarks of the ledger's two hot paths, each beside what a
// user would pick instead, in the same run:
//   ATP reads through LedgerReader  vs  raw LMDB gets on the same key layout;
//   durable reservations with group commit  vs  one transaction per command.
import Benchmark
import Foundation
import FulcrumCore
import FulcrumLedger
import FulcrumStorage
import Synchronization

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput], warmupIterations: 2, maxDuration: .seconds(6), maxIterations: 40)

    let reads = Configuration(metrics: [.wallClock, .throughput], scalingFactor: .mega)

    Benchmark("ATP read: LedgerReader.position (snapshot per read)", configuration: reads) { benchmark in
        let fixture = ReadFixture.shared
        let reader = try! fixture.ledger.makeReader()
        benchmark.startMeasurement()
        for index in benchmark.scaledIterations {
            let key = fixture.keys[index & ReadFixture.keyMask]
            Benchmark.blackHole(try! reader.position(node: key.node, sku: key.sku).available)
        }
    }

    Benchmark("ATP read: LedgerReader.positions, 64 per snapshot (bulk ATP)", configuration: reads) { benchmark in
        let fixture = ReadFixture.shared
        let reader = try! fixture.ledger.makeReader()
        let batches = stride(from: 0, through: ReadFixture.keyMask, by: 64).map { Array(fixture.keys[$0..<$0 + 64]) }
        benchmark.startMeasurement()
        for index in stride(from: 0, to: benchmark.scaledIterations.count, by: 64) {
            Benchmark.blackHole(try! reader.positions(batches[(index >> 6) % batches.count]))
        }
    }

    Benchmark("ATP read: raw LMDB mdb_get (snapshot per read)", configuration: reads) { benchmark in
        let fixture = ReadFixture.shared
        var transaction = try! ReadTransaction(fixture.rawEnvironment)
        transaction.reset()
        benchmark.startMeasurement()
        for index in benchmark.scaledIterations {
            try! transaction.renew()
            Benchmark.blackHole(fixture.rawGet(index, in: transaction))
            transaction.reset()
        }
    }

    Benchmark("ATP read: raw LMDB mdb_get (one snapshot for all)", configuration: reads) { benchmark in
        let fixture = ReadFixture.shared
        let transaction = try! ReadTransaction(fixture.rawEnvironment)
        benchmark.startMeasurement()
        for index in benchmark.scaledIterations {
            Benchmark.blackHole(fixture.rawGet(index, in: transaction))
        }
    }

    let writes = Configuration(
        metrics: [.wallClock] + ReservationRun.metrics, warmupIterations: 1, maxDuration: .seconds(10),
        maxIterations: 10)

    Benchmark("Durable reservations: group commit, 64 submitters", configuration: writes) { benchmark async in
        await ReservationRun(groupCommandsMax: Limits.groupCommandsMax, perSubmitter: 400).run(benchmark)
    }

    Benchmark("Durable reservations: one transaction per command, 64 submitters", configuration: writes) {
        benchmark async in
        await ReservationRun(groupCommandsMax: 1, perSubmitter: 20).run(benchmark)
    }
}

typealias Configuration = Benchmark.Configuration

/// A ledger of 100 nodes × 100 SKUs, and a bare LMDB environment holding the
/// same 10,000 8-byte keys and 32-byte values, built once.
final class ReadFixture: Sendable {
    static let shared = ReadFixture()
    static let keyMask = (1 << 14) - 1

    let ledger: Ledger
    let keys: [PositionKey]
    let rawEnvironment: Environment
    let rawDatabase: Database
    let rawKeys: [UInt64]

    private init() {
        let directory = NSTemporaryDirectory() + "fulcrum-bench-\(UUID().uuidString)"
        var options = Ledger.Options()
        options.durable = false
        ledger = try! Ledger(directory: directory + "/ledger", options: options)
        let nodes = (0..<100).map { "NODE-\($0)" }
        let skus = (0..<100).map { "SKU-\($0)" }
        let semaphore = DispatchSemaphore(value: 0)
        for node in nodes {
            for sku in skus {
                ledger.submit(.adjust(.init(node: node, sku: sku, change: .set(1_000)))) { _ in semaphore.signal() }
            }
        }
        for _ in 0..<(nodes.count * skus.count) { semaphore.wait() }
        var random = SplitMix64(seed: 7)
        keys = (0...Self.keyMask).map { _ in
            PositionKey(node: nodes.randomElement(using: &random)!, sku: skus.randomElement(using: &random)!)
        }

        try! FileManager.default.createDirectory(atPath: directory + "/raw", withIntermediateDirectories: true)
        rawEnvironment = try! Environment(path: directory + "/raw", options: .init(mapSizeBytes: 64 << 20, durable: false))
        rawDatabase = try! rawEnvironment.openDatabase("positions", create: true)
        let write = try! WriteTransaction(rawEnvironment)
        var word: UInt64 = 0
        for _ in 0..<(nodes.count * skus.count) {
            word += 1
            var key: [UInt8] = []
            withUnsafeBytes(of: word.bigEndian) { key.append(contentsOf: $0) }
            try! write.put(rawDatabase, key: key, value: [UInt8](repeating: 1, count: 32))
        }
        try! write.commit()
        rawKeys = (0...Self.keyMask).map { _ in UInt64.random(in: 1...word, using: &random).bigEndian }
    }

    @inline(__always)
    func rawGet(_ index: Int, in transaction: borrowing ReadTransaction) -> Int64 {
        let word = rawKeys[index & Self.keyMask]
        return withUnsafeBytes(of: word) { key in
            try! transaction.withValue(rawDatabase, key: key) { $0.loadUnaligned(fromByteOffset: 0, as: Int64.self) }!
        }
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}

/// 64 concurrent submitters each make `perSubmitter` durable reservations of
/// 1 to 3 lines, waiting for each acknowledgement; reports reservations/s and
/// the latency percentiles of single reservations.
final class ReservationRun: Sendable {
    static let submitters = 64
    static let throughputMetric = BenchmarkMetric.custom("reservations/s", polarity: .prefersLarger, useScalingFactor: false)
    static let p50Metric = BenchmarkMetric.custom("reservation p50 (µs)", useScalingFactor: false)
    static let p99Metric = BenchmarkMetric.custom("reservation p99 (µs)", useScalingFactor: false)
    static let groupMetric = BenchmarkMetric.custom("commands per group commit", polarity: .prefersLarger, useScalingFactor: false)
    static let commitMetric = BenchmarkMetric.custom("commit incl. fsync (µs)", useScalingFactor: false)
    static let applyMetric = BenchmarkMetric.custom("apply per group (µs)", useScalingFactor: false)
    static let metrics = [throughputMetric, p50Metric, p99Metric, groupMetric, commitMetric, applyMetric]

    let groupCommandsMax: Int
    let perSubmitter: Int
    /// Order numbers come from one counter, as a shop's order stream does.
    let orderNumbers = Atomic<Int>(0)

    init(groupCommandsMax: Int, perSubmitter: Int) {
        self.groupCommandsMax = groupCommandsMax
        self.perSubmitter = perSubmitter
    }

    func run(_ benchmark: Benchmark) async {
        let directory = NSTemporaryDirectory() + "fulcrum-bench-\(UUID().uuidString)"
        var options = Ledger.Options()
        options.groupCommandsMax = groupCommandsMax
        let ledger = try! Ledger(directory: directory, options: options)
        for node in 0..<20 {
            for sku in 0..<50 {
                _ = try! await ledger.adjust(.init(node: "N\(node)", sku: "S\(sku)", change: .set(1_000_000_000)))
            }
        }
        let groupsBefore = ledger.statistics.groups.load(ordering: .relaxed)
        let commandsBefore = ledger.statistics.commands.load(ordering: .relaxed)
        let commitBefore = ledger.statistics.commitNanoseconds.load(ordering: .relaxed)
        let applyBefore = ledger.statistics.applyNanoseconds.load(ordering: .relaxed)
        benchmark.startMeasurement()
        let started = ContinuousClock.now
        let latencies = await withTaskGroup(of: [Duration].self) { group in
            for submitter in 0..<Self.submitters {
                group.addTask { await self.submit(ledger, submitter: submitter) }
            }
            return await group.reduce(into: [Duration]()) { $0 += $1 }
        }
        let elapsed = ContinuousClock.now - started
        benchmark.stopMeasurement()
        let sorted = latencies.sorted()
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        benchmark.measurement(Self.throughputMetric, Int(Double(sorted.count) / seconds))
        benchmark.measurement(Self.p50Metric, microseconds(sorted[sorted.count / 2]))
        benchmark.measurement(Self.p99Metric, microseconds(sorted[sorted.count * 99 / 100]))
        let statistics = ledger.statistics
        let groups = statistics.groups.load(ordering: .relaxed) - groupsBefore
        let commands = statistics.commands.load(ordering: .relaxed) - commandsBefore
        let commitNanoseconds = statistics.commitNanoseconds.load(ordering: .relaxed) - commitBefore
        benchmark.measurement(Self.groupMetric, commands / max(1, groups))
        benchmark.measurement(Self.commitMetric, Int(commitNanoseconds / 1_000) / max(1, groups))
        let applyNanoseconds = statistics.applyNanoseconds.load(ordering: .relaxed) - applyBefore
        benchmark.measurement(Self.applyMetric, Int(applyNanoseconds / 1_000) / max(1, groups))
        ledger.close()
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func submit(_ ledger: Ledger, submitter: Int) async -> [Duration] {
        var random = SplitMix64(seed: UInt64(submitter))
        var latencies: [Duration] = []
        latencies.reserveCapacity(perSubmitter)
        for _ in 0..<perSubmitter {
            let node = "N\(Int.random(in: 0..<20, using: &random))"
            let first = Int.random(in: 0..<48, using: &random)
            let lines = (0..<Int.random(in: 1...3, using: &random)).map { offset in
                ReservationLine(node: node, sku: "S\(first + offset)", quantity: Int64.random(in: 1...3, using: &random))
            }
            let number = orderNumbers.add(1, ordering: .relaxed).newValue
            let request = ReserveRequest(order: "ORD-" + String(number).leftPadded(to: 10), lines: lines)
            let started = ContinuousClock.now
            _ = try! await ledger.reserve(request)
            latencies.append(ContinuousClock.now - started)
        }
        return latencies
    }

    private func microseconds(_ duration: Duration) -> Int {
        Int(duration.components.seconds * 1_000_000 + duration.components.attoseconds / 1_000_000_000_000)
    }
}
