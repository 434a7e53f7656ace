import FulcrumCore
import FulcrumLedger
import FulcrumOrchestration

/// Alerts over the live KPIs: each rule is evaluated on the leader; an alert
/// opens when its condition holds and resolves when it no longer does (a
/// rule has at most one open, so a condition that keeps holding alerts
/// once). Opening and resolving write the alert record and its message to
/// the rule's provider outbox in one guarded batch, so each is delivered
/// once, whichever replica evaluates and however often.
extension Service {
    /// "l" + rule + 0 + number (big-endian) → AlertRecord.
    static let alertPrefix: UInt8 = 0x6C

    static func alertKey(rule: String, number: UInt64) -> [UInt8] {
        alertRulePrefix(rule) + withUnsafeBytes(of: number.bigEndian) { Array($0) }
    }

    static func alertRulePrefix(_ rule: String) -> [UInt8] { [alertPrefix] + Names.keyBytes(rule) + [0] }

    /// The rules `evaluateAlerts` checks (an `--alerts` file); replaces those in force.
    public func setAlertRules(_ rules: [AlertRule]) {
        alertRules.withLock { $0 = rules }
    }

    /// Evaluates every rule now: opens and resolves alerts. Returns those it
    /// opened or resolved.
    @discardableResult
    public func evaluateAlerts() async throws(FulcrumError) -> [AlertRecord] {
        let rules = alertRules.withLock { $0 }
        guard !rules.isEmpty else { return [] }
        let nowMs = options.clock.now().millisecondsSinceEpoch
        var changed: [AlertRecord] = []
        for rule in rules {
            // Nothing to judge by (no orders in the span) resolves an open alert and opens none.
            let (value, subject) = try alertValue(rule, nowMs: nowMs) ?? (nil, nil)
            let latest = try latestAlert(rule.id)
            var batch = RecordBatch()
            var record: AlertRecord
            if let value, rule.fires(value), latest == nil || latest?.record.state == .resolved {
                let number = (latest?.record.number ?? 0) + 1
                record = AlertRecord(
                    rule: rule.id, number: number, condition: rule.condition, openedValue: value, openedMs: nowMs, subject: subject)
                batch.expectAbsent(Self.alertKey(rule: rule.id, number: number))
            } else if !(value.map(rule.fires) ?? false), let (stored, bytes) = latest, stored.state == .open {
                record = stored
                record.state = .resolved
                record.resolvedValue = value
                record.resolvedMs = nowMs
                batch.expect(Self.alertKey(rule: rule.id, number: stored.number), equals: bytes)
            } else {
                continue
            }
            batch.put(Self.alertKey(rule: rule.id, number: record.number), RecordCoding.encode(record))
            batch.put(outbox: alertMessage(record, provider: rule.provider, atMs: nowMs))
            do {
                try await write(batch)
                changed.append(record)
            } catch FulcrumError.Code.recordConflict {
                continue  // another evaluation got there first: its alert stands
            }
        }
        return changed
    }

    /// Open alerts first (newest first), then resolved ones, newest first; at most `limit`.
    public func alerts(limit: Int) throws(FulcrumError) -> [AlertRecord] {
        var all: [AlertRecord] = []
        try forEachRecord(prefix: [Self.alertPrefix]) { (_, value) throws(FulcrumError) in
            all.append(try RecordCoding.decodeBinary(AlertRecord.self, value, what: "alert"))
        }
        return Array(all.sorted { ($0.state == .open ? 0 : 1, -$0.openedMs, $0.id) < ($1.state == .open ? 0 : 1, -$1.openedMs, $1.id) }.prefix(limit))
    }

    private func latestAlert(_ rule: String) throws(FulcrumError) -> (record: AlertRecord, bytes: [UInt8])? {
        guard let (_, bytes) = try records(prefix: Self.alertRulePrefix(rule), after: nil, limit: 1, reverse: true).first else {
            return nil
        }
        return (try RecordCoding.decodeBinary(AlertRecord.self, bytes, what: "alert"), bytes)
    }

    /// The KPI's value now and what it is about (a node), or nil when there
    /// is not enough to judge by (a ratio on fewer than `min_orders` orders, no node with a capacity).
    private func alertValue(_ rule: AlertRule, nowMs: Int64) throws(FulcrumError) -> (Double?, String?)? {
        func totals() throws(FulcrumError) -> InsightTotals {
            let last = InsightLevel.minute.bucket(nowMs)
            let dimension = rule.channel.map(InsightDimension.channel) ?? .all
            var totals = InsightTotals()
            for (_, dimensions) in try insightSums(.minute, from: last - Int64(rule.overMinutes) + 1, to: last + 1) {
                if let counts = dimensions[dimension] { totals.add(counts) }
            }
            return totals
        }
        let reads = JourneyReads(backend: self)
        switch rule.kpi {
        case .counter(let metric):
            return (Double(try totals()[metric]), nil)
        case .ratio(let ratio):
            let totals = try totals()
            guard totals[ratio.basis] >= rule.minOrders, let value = ratio.value(totals) else { return nil }
            return (value, nil)
        case .stuckOrders:
            return (Double(try stuckOrders(reads, nowMs: nowMs, stuckAfterSeconds: rule.stuckAfterSeconds).listed.count), nil)
        case .deadLetters:
            return (Double(try reads.deadLetterCount(max: Limits.insightOrdersScannedMax)), nil)
        case .backordersWaiting:
            return (Double(try reads.backorderCount(max: Limits.insightOrdersScannedMax)), nil)
        case .eventsQueued:
            return (Double(eventsQueued), nil)
        case .anomalies:
            let since = nowMs - Int64(rule.overMinutes) * 60_000
            let recent = try anomalies(limit: Limits.pageItemsMax).filter { $0.hourStartMs + InsightLevel.hour.milliseconds > since }
            return (Double(recent.count), recent.first.map { "\($0.stream.rawValue) of \($0.subject)" })
        case .nodeUtilization:
            let loads = try nodeStatuses().compactMap { status -> (Double, String)? in
                guard rule.node == nil || rule.node == status.node.id, let capacity = status.settings.capacityPerDay else { return nil }
                return (capacity == 0 ? 1 : Double(status.releasedQuantity) / Double(capacity), status.node.id)
            }
            return loads.max { $0.0 < $1.0 }.map { ($0.0, $0.1) }
        }
    }

    /// `alert.opened` or `alert.resolved`, its body the alert as JSON.
    private func alertMessage(_ alert: AlertRecord, provider: String, atMs: Int64) -> OutboxMessage {
        let topic = alert.state == .open ? "alert.opened" : "alert.resolved"
        return OutboxMessage(
            id: "\(alert.id)/\(alert.state.rawValue)", provider: provider, topic: topic, order: "",
            step: "", body: JSON.orderedObject([("topic", .string(topic)), ("alert", alert.json)]).rendered, createdMs: atMs)
    }
}
