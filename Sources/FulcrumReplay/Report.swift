import Foundation
import FulcrumCore

/// A replay's report: the scenario, each strategy's KPIs, and how the
/// strategies differ. Written as JSON (tools), Markdown (a pull request or
/// wiki) and one self-contained HTML file with SVG charts.
public struct ReplayReport: Codable, Sendable, Hashable {
    public struct ScenarioSummary: Codable, Sendable, Hashable {
        public var name: String
        public var description: String
        public var start: String
        public var days: Int
        public var seed: UInt64
        public var orders: Int
        public var nodes: Int
        public var skus: Int
        public var positions: Int
        public var batchMinutes: Int
    }

    /// One strategy against the first (the baseline, usually `optimal`).
    public struct Comparison: Codable, Sendable, Hashable {
        public var baseline: String
        public var strategy: String
        /// Of the other strategy's shipping cost; positive: the baseline is cheaper.
        public var costSavingPercent: Double
        public var shipmentsPerOrderSaved: Double
        public var distancePerUnitSavedKilometers: Double
        /// Baseline fill rate minus the other's, in percentage points.
        public var fillRatePointsGained: Double
        public var summary: String
    }

    public var format = "fulcrum-replay-report"
    public var version = 1
    public var scenario: ScenarioSummary
    public var strategies: [StrategyResult]
    public var comparisons: [Comparison]

    public init(_ expanded: ExpandedScenario, results: [StrategyResult]) {
        precondition(!results.isEmpty, "a report has at least one strategy")
        let scenario = expanded.scenario
        self.scenario = ScenarioSummary(
            name: scenario.name, description: scenario.description,
            start: CivilDate.string(daysSinceEpoch: scenario.start.millisecondsSinceEpoch / Scenario.dayMilliseconds),
            days: scenario.days, seed: scenario.seed, orders: expanded.orders.count, nodes: scenario.nodes.count,
            skus: expanded.skus.count, positions: expanded.positions.count, batchMinutes: scenario.replay.batchMinutes)
        strategies = results
        let baseline = results[0]
        comparisons = results.dropFirst().map { Self.compare(baseline, $0) }
    }

    private static func compare(_ baseline: StrategyResult, _ other: StrategyResult) -> Comparison {
        let a = baseline.totals
        let b = other.totals
        let saving = b.cost == 0 ? 0 : (b.cost - a.cost) / b.cost * 100
        let shipments = b.shipmentsPerOrder - a.shipmentsPerOrder
        let distance = b.distancePerUnitKilometers - a.distancePerUnitKilometers
        let fill = (a.fillRate - b.fillRate) * 100
        var summary = saving >= 0
            ? "\(baseline.strategy) saves \(Format.fixed(saving, 1))% cost"
            : "\(baseline.strategy) costs \(Format.fixed(-saving, 1))% more"
        summary += shipments >= 0
            ? " and \(Format.fixed(shipments, 2)) shipments per order"
            : " and makes \(Format.fixed(-shipments, 2)) more shipments per order"
        summary += " over \(other.strategy)"
        if abs(fill) >= 0.05 { summary += ", fill rate \(fill >= 0 ? "+" : "")\(Format.fixed(fill, 1)) points" }
        return Comparison(
            baseline: baseline.strategy, strategy: other.strategy, costSavingPercent: saving, shipmentsPerOrderSaved: shipments,
            distancePerUnitSavedKilometers: distance, fillRatePointsGained: fill, summary: summary)
    }

    /// Pretty JSON with sorted keys and snake_case names.
    public func json() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        // Every number is finite (ratios guard their denominators): encoding cannot fail.
        return try! encoder.encode(self)
    }

    /// The report with wall-clock timings cleared: what must be identical
    /// between two replays of the same scenario and seed.
    public var withoutTiming: ReplayReport {
        var copy = self
        for index in copy.strategies.indices { copy.strategies[index].timing = ReplayTiming(latenciesMicroseconds: [], wallSeconds: 0, orders: 0) }
        return copy
    }

    /// Writes `report.json`, `report.md` and `report.html` into `directory`
    /// (created); returns their paths.
    public func write(to directory: String) throws(FulcrumError) -> [String] {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let files: [(String, Data)] = [
                ("report.json", json()), ("report.md", Data(markdown().utf8)), ("report.html", Data(html().utf8)),
            ]
            var paths: [String] = []
            for (name, data) in files {
                let path = (directory as NSString).appendingPathComponent(name)
                try data.write(to: URL(fileURLWithPath: path))
                paths.append(path)
            }
            return paths
        } catch {
            throw FulcrumError(.storage, "cannot write the report: \(error)", path: directory)
        }
    }
}

/// Number formatting that does not depend on the machine's locale.
enum Format {
    static func fixed(_ value: Double, _ digits: Int) -> String {
        String(format: "%.\(digits)f", value)
    }

    /// 1234567 → "1,234,567".
    static func grouped(_ value: Int) -> String {
        let digits = String(abs(value))
        var result = ""
        for (index, character) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { result.append(",") }
            result.append(character)
        }
        return value < 0 ? "-" + result : result
    }

    static func percent(_ fraction: Double) -> String { fixed(fraction * 100, 1) + "%" }

    static func money(_ value: Double) -> String {
        let whole = Int(value.rounded(.down))
        let cents = Int(((value - Double(whole)) * 100).rounded())
        return cents == 100 ? grouped(whole + 1) + ".00" : grouped(whole) + "." + (cents < 10 ? "0" : "") + String(cents)
    }
}
