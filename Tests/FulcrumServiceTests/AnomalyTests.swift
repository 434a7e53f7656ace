import FulcrumCore
import FulcrumLedger
import FulcrumOrchestration
import FulcrumService
import FulcrumTestSupport
import Testing

/// Anomaly detection on three weeks of hourly counters with a daily rhythm
/// and noise: an injected demand spike on one SKU and a shrinkage at one
/// node are found, with their explanation, in the first pass after their
/// hour ends; the unmodified weeks raise nothing.
@Suite struct AnomalyTests {
    /// Midnight UTC, a Monday.
    static let startMs: Int64 = 1_795_737_600_000
    static let days = 21

    /// Orders on channel web, units of TEE and HOODIE, a little shrinkage at
    /// node A now and then: a day rhythm (busy 9 to 18) with seeded noise.
    static func ordinaryHour(_ hour: Int64, _ random: inout SplitMix64) -> [InsightAddition] {
        let busy = (9..<18).contains(hour % 24)
        let orders = Int64(busy ? 30 : 8) + Int64.random(in: -3...3, using: &random)
        return [
            InsightAddition(.ordersCreated, .channel("web"), orders),
            InsightAddition(.unitsOrdered, .sku("TEE"), orders + Int64.random(in: 0...6, using: &random)),
            InsightAddition(.unitsOrdered, .sku("HOODIE"), orders / 3 + Int64.random(in: 0...2, using: &random)),
            InsightAddition(.unitsShrunk, .node("A"), Int64.random(in: 0...9, using: &random) == 0 ? 1 : 0),
        ]
    }

    static func write(_ service: Service, hour: Int64, _ additions: [InsightAddition]) async throws {
        var batch = RecordBatch()
        for addition in additions where addition.amount != 0 {
            batch.add(InsightKeys.counter(.hour, hour, addition.dimension, addition.metric), addition.amount)
        }
        batch.put(InsightKeys.watermark(.hour), RecordBatch.counter(hour + 1))
        try await service.write(batch)
    }

    @Test func aSpikeAndAShrinkageAreFoundAndOrdinaryWeeksRaiseNothing() async throws {
        let clock = ManualClock(Timestamp(millisecondsSinceEpoch: Self.startMs))
        var options = Service.Options()
        options.clock = clock
        let service = Service(ledger: try Ledger(directory: temporaryDirectory()), network: Network(nodes: []), options: options)
        var random = SplitMix64(seed: 7)
        let first = InsightLevel.hour.bucket(Self.startMs)
        let spike = first + Int64(Self.days * 24) + 14  // 14:00 on the 22nd day
        for hour in first..<spike {
            try await Self.write(service, hour: hour, Self.ordinaryHour(hour, &random))
        }
        // The false-alarm check: score the last two weeks of ordinary hours.
        clock.advance(milliseconds: (first + 7 * 24 - first) * InsightLevel.hour.milliseconds)
        #expect(try await service.detectAnomalies().isEmpty, "the first pass only sets where scoring starts")
        clock.advance(milliseconds: (spike - (first + 7 * 24)) * InsightLevel.hour.milliseconds)
        var falseAlarms: [Anomaly] = []
        for _ in 0..<20 { falseAlarms += try await service.detectAnomalies() }
        #expect(falseAlarms.isEmpty, "\(falseAlarms.map(\.explanation))")

        // The spike's hour: ten times TEE's demand, and 40 units gone at A.
        var hour = Self.ordinaryHour(spike, &random)
        hour[1].amount *= 10
        hour.append(InsightAddition(.unitsShrunk, .node("A"), 40))
        try await Self.write(service, hour: spike, hour)
        #expect(try await service.detectAnomalies().isEmpty, "not before the hour is over")
        clock.advance(milliseconds: InsightLevel.hour.milliseconds)
        let found = try await service.detectAnomalies()
        #expect(found.map { "\($0.stream.rawValue) \($0.subject)" } == ["sku_demand TEE", "shrinkage A"])
        let demand = try #require(found.first)
        #expect(demand.hourStartMs == spike * InsightLevel.hour.milliseconds && demand.baseline == "the same hour of the week, 3 weeks")
        #expect(demand.observed > 250 && demand.expected > 25 && demand.expected < 45 && demand.score > 5, "\(demand.explanation)")
        #expect(demand.explanation.hasPrefix("sku_demand of TEE: \(demand.observed) in the hour, expected "))
        #expect(try service.anomalies(limit: 10).count == 2)
        #expect(try await service.detectAnomalies().isEmpty, "each hour is scored once")
    }

    /// Adjustments that take units off on hand count as shrinkage at their node, in their transaction.
    @Test func adjustmentsCountShrinkage() async throws {
        let service = Service(ledger: try Ledger(directory: temporaryDirectory()), network: Network(nodes: []))
        _ = try await service.adjust(.init(node: "A", sku: "TEE", change: .set(50), reason: "receipt"))
        _ = try await service.adjust(.init(node: "A", sku: "TEE", change: .delta(-4), reason: "damaged"))
        _ = try await service.adjust(.init(node: "A", sku: "TEE", change: .set(40), reason: "cycle count"))
        _ = try await service.adjust(.init(node: "B", sku: "TEE", change: .delta(7), reason: "found"))
        // 4 damaged, then a count 6 below the books; units found are not shrinkage.
        #expect(try service.insights(window: .hour).totals[.unitsShrunk] == 10)
    }

    /// The ledger counts the reservations it expires, in the transaction that expires them.
    @Test func expiriesAreCounted() async throws {
        let clock = ManualClock(Timestamp(millisecondsSinceEpoch: Self.startMs))
        var ledgerOptions = Ledger.Options()
        ledgerOptions.clock = clock
        ledgerOptions.expirySweepIntervalMilliseconds = nil
        var options = Service.Options()
        options.clock = clock
        let service = Service(ledger: try Ledger(directory: temporaryDirectory(), options: ledgerOptions), network: Network(nodes: []), options: options)
        _ = try await service.adjust(.init(node: "A", sku: "TEE", change: .set(10), reason: "count"))
        for order in ["E1", "E2", "KEPT"] {
            _ = try await service.reserve(.init(order: order, lines: [.init(node: "A", sku: "TEE", quantity: 1)], ttlSeconds: order == "KEPT" ? 3600 : 60))
        }
        clock.advance(milliseconds: 120_000)
        #expect(Set(try await service.expireDue()) == ["E1", "E2"])
        #expect(try service.insights(window: .hour).totals[.reservationsExpired] == 2)
    }

    @Test func theBaselineFallsBackFromWeeksToDaysToHours() {
        let hour: Int64 = 10_000
        #expect(AnomalyDetector.baselineHours(for: hour, historyStartHour: hour - 5)?.hours == nil)
        #expect(AnomalyDetector.baselineHours(for: hour, historyStartHour: hour - 6)?.hours == Array((hour - 6)..<hour).reversed())
        #expect(AnomalyDetector.baselineHours(for: hour, historyStartHour: hour - 72)?.hours == [hour - 24, hour - 48, hour - 72])
        #expect(AnomalyDetector.baselineHours(for: hour, historyStartHour: 0)?.hours.count == AnomalyDetector.weeksMax)
        // A quiet stream (MAD 0) needs more than a unit or two; a real jump counts.
        let quiet: [Double] = [0, 0, 0, 1, 0, 0]
        #expect(!AnomalyDetector.isAnomalous(.shrinkage, observed: 6, median: 0, score: AnomalyDetector.score(observed: 6, baseline: quiet).score))
        #expect(AnomalyDetector.isAnomalous(.shrinkage, observed: 40, median: 0, score: AnomalyDetector.score(observed: 40, baseline: quiet).score))
        // Only order intake counts a drop.
        let busy: [Double] = [100, 104, 98, 101, 97]
        let drop = AnomalyDetector.score(observed: 2, baseline: busy)
        #expect(AnomalyDetector.isAnomalous(.orderIntake, observed: 2, median: drop.median, score: drop.score))
        #expect(!AnomalyDetector.isAnomalous(.skuDemand, observed: 2, median: drop.median, score: drop.score))
    }
}
