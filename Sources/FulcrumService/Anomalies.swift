import FulcrumCore
import FulcrumLedger
import FulcrumOrchestration

/// Anomaly detection on the insight counters: once an hour is over, each
/// stream's count for each subject (orders per channel, units per SKU,
/// shrinkage per node, dead letters per provider) is scored against its
/// seasonal baseline (`AnomalyDetector`); what stands out is stored, once,
/// and listed with its explanation.
extension Service {
    /// "y" + hour (big-endian) + stream + 0 + subject → Anomaly.
    static let anomalyPrefix: UInt8 = 0x79

    static func anomalyKey(_ anomaly: Anomaly) -> [UInt8] {
        let hour = InsightLevel.hour.bucket(anomaly.hourStartMs)
        return [anomalyPrefix] + withUnsafeBytes(of: UInt64(bitPattern: hour).bigEndian) { Array($0) }
            + Array(anomaly.stream.rawValue.utf8) + [0] + Names.keyBytes(anomaly.subject)
    }

    /// The watermark: the first hour not yet looked at.
    static let anomalyWatermarkKey: [UInt8] = [InsightKeys.prefix, 0, 0x79]

    /// Scores every hour that ended since the last pass (at most
    /// `insightBucketsRolledPerPassMax`), storing the anomalies found; returns them.
    /// Guarded on the watermark: two passes at once look at each hour once.
    @discardableResult
    public func detectAnomalies() async throws(FulcrumError) -> [Anomaly] {
        let nowMs = options.clock.now().millisecondsSinceEpoch
        let current = InsightLevel.hour.bucket(nowMs)
        guard let historyStart = try insightHistoryStartHour() else { return [] }
        guard let stored = try record(Self.anomalyWatermarkKey).flatMap(RecordBatch.counterValue) else {
            // The first pass: hours from now on are scored (history is only a baseline).
            var batch = RecordBatch()
            batch.expectAbsent(Self.anomalyWatermarkKey)
            batch.put(Self.anomalyWatermarkKey, RecordBatch.counter(current))
            do { try await write(batch) } catch FulcrumError.Code.recordConflict {}
            return []
        }
        var hour = stored
        var found: [Anomaly] = []
        var hourSums: [Int64: [InsightDimension: InsightTotals]] = [:]
        func sums(_ hour: Int64) throws(FulcrumError) -> [InsightDimension: InsightTotals] {
            if let cached = hourSums[hour] { return cached }
            let read = try insightSums(.hour, from: hour, to: hour + 1)[hour] ?? [:]
            hourSums[hour] = read
            return read
        }
        var passes = 0
        while hour < current, passes < Limits.insightBucketsRolledPerPassMax {
            var batch = RecordBatch()
            batch.expect(Self.anomalyWatermarkKey, equals: RecordBatch.counter(hour))
            var anomalies: [Anomaly] = []
            if let (hours, description) = AnomalyDetector.baselineHours(for: hour, historyStartHour: historyStart) {
                var baselines: [[InsightDimension: InsightTotals]] = []
                for past in hours { baselines.append(try sums(past)) }
                anomalies = AnomalyDetector.detect(hour: hour, observed: try sums(hour), baselines: baselines, description: description)
            }
            for anomaly in anomalies { batch.put(Self.anomalyKey(anomaly), RecordCoding.encode(anomaly)) }
            batch.put(Self.anomalyWatermarkKey, RecordBatch.counter(hour + 1))
            do {
                try await write(batch)
            } catch FulcrumError.Code.recordConflict {
                break  // another pass looked at this hour
            }
            found += anomalies
            hour += 1
            passes += 1
        }
        return found
    }

    /// Stored anomalies, newest hour first, at most `limit`.
    public func anomalies(limit: Int) throws(FulcrumError) -> [Anomaly] {
        try records(prefix: [Self.anomalyPrefix], after: nil, limit: limit, reverse: true).map { (record) throws(FulcrumError) in
            try RecordCoding.decodeBinary(Anomaly.self, record.value, what: "anomaly")
        }
    }

    /// The first hour any counter was kept for (the coarsest level's oldest first).
    private func insightHistoryStartHour() throws(FulcrumError) -> Int64? {
        var start: Int64?
        for level in InsightLevel.allCases {
            guard let first = try records(prefix: InsightKeys.levelPrefix(level), after: nil, limit: 1, reverse: false).first,
                let counter = InsightKeys.parse(first.key)
            else { continue }
            let hour = counter.bucket * level.milliseconds / InsightLevel.hour.milliseconds
            start = min(start ?? hour, hour)
        }
        return start
    }
}
