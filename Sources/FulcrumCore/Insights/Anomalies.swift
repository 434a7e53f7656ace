/// The streams watched for anomalies: each is one counter per hour, per subject.
public enum AnomalyStream: String, CaseIterable, Codable, Sendable {
    /// Orders accepted, per sales channel: a spike, or a channel gone quiet.
    case orderIntake = "order_intake"
    /// Units ordered, per SKU.
    case skuDemand = "sku_demand"
    /// Units taken off on hand by adjustments (counts, damage, loss), per node.
    case shrinkage
    /// Messages a provider gave up on, per provider.
    case providerFailures = "provider_failures"

    public var metric: InsightMetric {
        switch self {
        case .orderIntake: .ordersCreated
        case .skuDemand: .unitsOrdered
        case .shrinkage: .unitsShrunk
        case .providerFailures: .messagesDeadLettered
        }
    }

    /// The stream's subject in a counter's dimension, or nil when the dimension is not this stream's.
    public func subject(_ dimension: InsightDimension) -> String? {
        switch (self, dimension) {
        case (.orderIntake, .channel(let channel)): channel
        case (.skuDemand, .sku(let sku)): sku
        case (.shrinkage, .node(let node)): node
        case (.providerFailures, .provider(let provider)): provider
        default: nil
        }
    }

    /// Whether a fall far below the baseline is an anomaly too (a channel that stopped selling).
    var dropsCount: Bool { self == .orderIntake }

    /// Whether a demand forecast scales its baseline (`AnomalyDetector.detect`'s factors).
    var followsDemand: Bool { self == .orderIntake || self == .skuDemand }
}

/// An hour whose count is far from what the same hour usually brings.
public struct Anomaly: Codable, Sendable, Hashable {
    public var stream: AnomalyStream
    public var subject: String
    public var hourStartMs: Int64
    public var observed: Int64
    /// The baseline's median and median absolute deviation.
    public var expected: Double
    public var deviation: Double
    /// (observed − expected) ÷ the robust spread; positive for a spike.
    public var score: Double
    /// What the baseline was: "the same hour of the week, 8 weeks", ...
    public var baseline: String
    public var baselineHours: Int

    public init(
        stream: AnomalyStream, subject: String, hourStartMs: Int64, observed: Int64, expected: Double, deviation: Double,
        score: Double, baseline: String, baselineHours: Int
    ) {
        self.stream = stream
        self.subject = subject
        self.hourStartMs = hourStartMs
        self.observed = observed
        self.expected = expected
        self.deviation = deviation
        self.score = score
        self.baseline = baseline
        self.baselineHours = baselineHours
    }

    /// "sku_demand of HOODIE-GRY-M: 240 in the hour from 14:00, expected 12 (the same hour of the day, 14 days)".
    public var explanation: String {
        "\(stream.rawValue) of \(subject.isEmpty ? "(no channel)" : subject): \(observed) in the hour, expected "
            + "\((expected * 10).rounded() / 10) ± \((deviation * 10).rounded() / 10) (\(baseline)), score \((score * 10).rounded() / 10)"
    }

    public var json: JSON {
        .orderedObject([
            ("stream", .string(stream.rawValue)), ("subject", .string(subject)), ("hour_start_ms", .integer(hourStartMs)),
            ("observed", .integer(observed)), ("expected", .number(expected)), ("deviation", .number(deviation)),
            ("score", .number((score * 1000).rounded() / 1000)), ("baseline", .string(baseline)),
            ("baseline_hours", .integer(Int64(baselineHours))), ("explanation", .string(explanation)),
        ])
    }
}

/// A seasonal baseline and a robust score: an hour's count against the
/// same hour of the week over past weeks (once there are enough), else the
/// same hour of the day over past days, else the hours just before;
/// scored by median and MAD, with a Poisson floor so that quiet streams
/// (where the MAD is 0) need a real jump to count.
public enum AnomalyDetector {
    /// Past weeks (same hour of the week), days (same hour of the day) and hours looked at.
    public static let weeksMax = 8
    public static let weeksMin = 3
    public static let daysMax = 14
    public static let daysMin = 3
    public static let hoursMax = 24
    public static let hoursMin = 6
    /// The score an hour needs, and by how many units it must differ from the
    /// median. 7: at 5 the peak-week scenario's sparse SKUs raised 25 false
    /// alarms on its peak day (docs/insights.md); at 7 none, and injected
    /// incidents score 11 and more.
    public static let scoreMin = 7.0
    public static let differenceMin: Int64 = 5

    /// The hours (indices since the epoch) `hour` is compared with, oldest
    /// history first being `historyStartHour`, and what they are;
    /// `seasonalOnly`: nil rather than the hours just before (whose hour of day differs).
    public static func baselineHours(for hour: Int64, historyStartHour: Int64, seasonalOnly: Bool = false)
        -> (hours: [Int64], description: String)?
    {
        let weeks = (1...weeksMax).map { hour - 168 * Int64($0) }.filter { $0 >= historyStartHour }
        if weeks.count >= weeksMin { return (weeks, "the same hour of the week, \(weeks.count) weeks") }
        let days = (1...daysMax).map { hour - 24 * Int64($0) }.filter { $0 >= historyStartHour }
        if days.count >= daysMin { return (days, "the same hour of the day, \(days.count) days") }
        if seasonalOnly { return nil }
        let hours = (1...hoursMax).map { hour - Int64($0) }.filter { $0 >= historyStartHour }
        if hours.count >= hoursMin { return (hours, "the \(hours.count) hours before") }
        return nil
    }

    /// The median, the spread used and the score. The spread is 1.4826 ×
    /// the MAD, but at least √(the baseline's mean or median, whichever is
    /// larger) and 2: a handful of samples of a sparse count often have a
    /// median (and MAD) of 0, and a Poisson count's noise is its mean's root.
    public static func score(observed: Int64, baseline: [Double]) -> (median: Double, spread: Double, score: Double) {
        precondition(!baseline.isEmpty)
        let median = Self.median(baseline)
        let mean = baseline.reduce(0, +) / Double(baseline.count)
        let mad = Self.median(baseline.map { abs($0 - median) })
        let spread = max(1.4826 * mad, max(median, mean).squareRoot(), 2)
        return (median, spread, (Double(observed) - median) / spread)
    }

    /// Whether the hour is an anomaly of `stream`.
    public static func isAnomalous(_ stream: AnomalyStream, observed: Int64, median: Double, score: Double) -> Bool {
        let difference = Double(observed) - median
        if score >= scoreMin, difference >= Double(differenceMin) { return true }
        return stream.dropsCount && score <= -scoreMin && -difference >= Double(differenceMin)
    }

    /// The anomalies of one hour: each stream's count per subject against the
    /// same subject's counts in `baselines` (what `baselineHours` chose); a
    /// demand stream's baseline counts are each scaled by its factor first
    /// when a forecast says how much busier this hour should be than that
    /// one (a replay's day multipliers; 1 without one).
    public static func detect(
        hour: Int64, observed: [InsightDimension: InsightTotals], baselines: [[InsightDimension: InsightTotals]],
        factors: [Double]? = nil, description: String
    ) -> [Anomaly] {
        precondition(factors == nil || factors!.count == baselines.count)
        var anomalies: [Anomaly] = []
        for stream in AnomalyStream.allCases {
            // Subjects seen now, and (for drops) those the baseline saw.
            var subjects: [InsightDimension: String] = [:]
            for dimension in observed.keys { if let subject = stream.subject(dimension) { subjects[dimension] = subject } }
            if stream.dropsCount {
                for baseline in baselines {
                    for dimension in baseline.keys { if let subject = stream.subject(dimension) { subjects[dimension] = subject } }
                }
            }
            for (dimension, subject) in subjects.sorted(by: { $0.value < $1.value }) {
                let count = observed[dimension]?[stream.metric] ?? 0
                let history = baselines.enumerated().map { index, baseline in
                    Double(baseline[dimension]?[stream.metric] ?? 0) * (stream.followsDemand ? factors?[index] ?? 1 : 1)
                }
                let (median, spread, score) = Self.score(observed: count, baseline: history)
                guard isAnomalous(stream, observed: count, median: median, score: score) else { continue }
                anomalies.append(
                    Anomaly(
                        stream: stream, subject: subject, hourStartMs: hour * InsightLevel.hour.milliseconds, observed: count,
                        expected: median, deviation: spread, score: score, baseline: description, baselineHours: baselines.count))
            }
        }
        return anomalies
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}

extension Anomaly: StoredRecord {
    public func write(to writer: inout ByteWriter) {
        writer.write(text: stream.rawValue)
        writer.write(text: subject)
        writer.write(hourStartMs)
        writer.write(observed)
        writer.write(expected)
        writer.write(deviation)
        writer.write(score)
        writer.write(text: baseline)
        writer.write(Int64(baselineHours))
    }

    public init(from reader: inout ByteReader) throws(FulcrumError) {
        let name = try reader.readText()
        guard let stream = AnomalyStream(rawValue: name) else {
            throw FulcrumError(.corrupt, "'\(name)' is not an anomaly stream", path: "stream")
        }
        self.stream = stream
        subject = try reader.readText()
        hourStartMs = try reader.read()
        observed = try reader.read()
        expected = try reader.readDouble()
        deviation = try reader.readDouble()
        score = try reader.readDouble()
        baseline = try reader.readText()
        baselineHours = Int(try reader.read(Int64.self))
    }
}
