import FulcrumCore
import FulcrumLedger
import FulcrumOrchestration
import FulcrumSolver
import Synchronization

/// Each node's settings in force: the network file's, replaced by the
/// changes stored in the ledger (each with a revision, 0 for the file's).
struct NodeTable: Sendable {
    private(set) var revisions: [String: Int64] = [:]
    private(set) var settings: [String: NodeSettings] = [:]
    /// The network's nodes, opened, closed and shipping as the settings say.
    private(set) var nodes: [Node]
    /// The nodes with a daily capacity.
    private(set) var limited: [LimitedNode] = []

    /// A node with a daily capacity: its place in `nodes`, its settings, and
    /// the key of its released counters without the day.
    struct LimitedNode: Sendable {
        var index: Int
        var settings: NodeSettings
        var releasedKeyPrefix: [UInt8]
    }

    init(network: Network) {
        nodes = network.nodes
        for node in network.nodes { set(node.id, revision: 0, network.settings[node.id] ?? NodeSettings()) }
    }

    /// Takes `settings` unless the table already holds a later revision
    /// (two updates can finish in the other order than they committed).
    mutating func set(_ id: String, revision: Int64, _ settings: NodeSettings) {
        guard let index = nodes.firstIndex(where: { $0.id == id }), revision >= revisions[id, default: 0] else { return }
        revisions[id] = revision
        self.settings[id] = settings
        nodes[index].enabled = settings.enabled
        nodes[index].canShip = settings.canShip
        limited = nodes.indices.compactMap { index in
            guard let settings = self.settings[nodes[index].id], settings.capacityPerDay != nil else { return nil }
            return LimitedNode(index: index, settings: settings, releasedKeyPrefix: Service.releasedKey(node: nodes[index].id, day: ""))
        }
    }
}

/// The live network: nodes opened and closed, shipping turned on and off,
/// daily capacity changed while the server runs, each change stored in the
/// ledger's records with the node's timeline of changes and the audit
/// trail; and the units released to each node per local day, counted in
/// the ledger in the transaction that commits them. Every live solve ships
/// from `networkNodes()`: closed nodes disabled, capacity what is left today.
extension Service {
    /// "n" + node → revision (Int64) + NodeSettings.
    static let nodeSettingsPrefix: UInt8 = 0x6E
    /// "c" + node + 0 + revision (big-endian UInt64) → NodeChange.
    static let nodeChangesPrefix: UInt8 = 0x63
    /// "u" + node + 0 + local day (`YYYY-MM-DD`) → units released that day (a counter).
    static let releasedPrefix: UInt8 = 0x75

    static func releasedKey(node: String, day: String) -> [UInt8] {
        [releasedPrefix] + Names.keyBytes(node) + [0] + Array(day.utf8)
    }

    private static func changeKey(node: String, revision: Int64) -> [UInt8] {
        [nodeChangesPrefix] + Names.keyBytes(node) + [0] + withUnsafeBytes(of: UInt64(revision).bigEndian) { Array($0) }
    }

    /// The settings in force, read from the ledger once and kept in step with updates.
    func nodeTable() throws(FulcrumError) -> NodeTable {
        try loadOnce(nodeSettingsTable) { () throws(FulcrumError) in
            var table = NodeTable(network: network)
            try forEachRecord(prefix: [Self.nodeSettingsPrefix]) { (key, value) throws(FulcrumError) in
                let stored = try RecordCoding.decodeBinary(StoredNodeSettings.self, value, what: "node settings")
                table.set(String(decoding: key.dropFirst(), as: UTF8.self), revision: stored.revision, stored.settings)
            }
            return table
        }
    }

    /// The network's nodes as they stand now: closed nodes disabled, nodes
    /// not shipping marked so, and a node with a daily capacity limited to
    /// what it has left on its local day.
    public func networkNodes() throws(FulcrumError) -> [Node] {
        let table = try nodeTable()
        guard !table.limited.isEmpty else { return table.nodes }
        var nodes = table.nodes
        let now = options.clock.now().millisecondsSinceEpoch
        // Each time zone's day once; every counter from one snapshot.
        var dayOfZone: [String: [UInt8]] = [:]
        let keys = table.limited.map { limited in
            let zone = limited.settings.timezone
            let day = dayOfZone[zone] ?? Array(localDays.day(in: zone, at: now).label.utf8)
            dayOfZone[zone] = day
            return limited.releasedKeyPrefix + day
        }
        let counters = try readers.withReader { reader throws(FulcrumError) in try reader.records(keys) }
        for (limited, counter) in zip(table.limited, counters) {
            let released = counter.flatMap(RecordBatch.counterValue) ?? 0
            let left = Int(clamping: max(0, limited.settings.capacityPerDay! - released))
            nodes[limited.index].capacityUnits = min(nodes[limited.index].capacityUnits ?? left, left)
        }
        return nodes
    }

    /// Every node of the network with its settings and what it released on its local day.
    public func nodeStatuses() throws(FulcrumError) -> [NodeStatus] {
        let table = try nodeTable()
        let now = options.clock.now().millisecondsSinceEpoch
        return try readers.withReader { reader throws(FulcrumError) in
            var statuses: [NodeStatus] = []
            for node in network.nodes {
                let settings = table.settings[node.id]!
                let day = localDays.day(in: settings.timezone, at: now).label
                let released = try reader.record(Self.releasedKey(node: node.id, day: day)).flatMap(RecordBatch.counterValue) ?? 0
                statuses.append(NodeStatus(node: node, settings: settings, day: day, releasedQuantity: released))
            }
            return statuses
        }
    }

    /// One node as `nodeStatuses` shows it, with its newest changes first (at most `changesMax`).
    public func nodeStatus(_ id: String, changesMax: Int = Limits.pageItemsDefault) throws(FulcrumError) -> NodeStatus {
        try Names.validate(id, path: "node")
        guard (1...Limits.pageItemsMax).contains(changesMax) else {
            throw FulcrumError(.invalidArgument, "limit is 1 to \(Limits.pageItemsMax)", path: "limit")
        }
        guard var status = try nodeStatuses().first(where: { $0.node.id == id }) else {
            throw FulcrumError(.notFound, "no node \(id) in the server's network", path: "node")
        }
        status.changes = try records(
            prefix: [Self.nodeChangesPrefix] + Names.keyBytes(id) + [0], after: nil, limit: changesMax, reverse: true
        ).map { (record) throws(FulcrumError) in try RecordCoding.decodeBinary(NodeChange.self, record.value, what: "node change") }
        return status
    }

    /// Changes a node's settings: durable on return, on the node's timeline
    /// and in the audit trail, in one transaction. An update that changes
    /// nothing writes nothing. Concurrent updates of one node apply in turn.
    public func updateNode(_ id: String, _ update: NodeUpdate, caller: Caller) async throws(FulcrumError) -> NodeStatus {
        try Names.validate(id, path: "node")
        try update.validate()
        guard network.nodeIDs.contains(id) else {
            throw FulcrumError(.notFound, "no node \(id) in the server's network", path: "node")
        }
        let key = [Self.nodeSettingsPrefix] + Names.keyBytes(id)
        for _ in 1...Limits.recordConflictAttemptsMax {
            let stored = try record(key)
            let before =
                try stored.map { (bytes) throws(FulcrumError) in
                    try RecordCoding.decodeBinary(StoredNodeSettings.self, bytes, what: "node settings")
                } ?? StoredNodeSettings(revision: 0, settings: network.settings[id]!)
            let after = StoredNodeSettings(revision: before.revision + 1, settings: before.settings.updated(by: update))
            guard after.settings != before.settings else { return try nodeStatus(id) }
            let change = NodeChange(
                revision: after.revision, atMilliseconds: options.clock.now().millisecondsSinceEpoch, caller: caller.token,
                before: before.settings, after: after.settings, reason: update.reason)
            var batch = RecordBatch()
            if let stored { batch.expect(key, equals: stored) } else { batch.expectAbsent(key) }
            batch.put(key, RecordCoding.encode(after))
            batch.put(Self.changeKey(node: id, revision: after.revision), RecordCoding.encode(change))
            batch.append(
                auditBatch(
                    operation: "update_node", subject: id,
                    detail: change.summary + (update.reason.map { " (\($0))" } ?? ""), caller: caller))
            do {
                try await write(batch)
            } catch FulcrumError.Code.recordConflict {
                continue
            }
            nodeSettingsTable.withLock { table in table?.set(id, revision: after.revision, after.settings) }
            return try nodeStatus(id)
        }
        throw FulcrumError(
            .recordConflict, "the node changed under \(Limits.recordConflictAttemptsMax) updates in a row; try again",
            path: "node")
    }

    /// The counters a command adds in its own transaction: for a
    /// confirmation, the units each node released on its local day; for an
    /// adjustment that takes units off on hand, the shrinkage at its node
    /// (insights). Nil for other commands; a command the ledger refuses adds nothing.
    func commandCounters(_ command: LedgerCommand) -> RecordBatch? {
        switch command {
        case .confirm(let order): releaseCounts(order: order)
        case .adjust(let request): shrinkCounts(request)
        default: nil
        }
    }

    private func releaseCounts(order: String) -> RecordBatch? {
        guard let reservation = try? reservation(order: order), reservation.state == .reserved, let table = try? nodeTable()
        else { return nil }
        var units: [String: Int64] = [:]
        for line in reservation.lines { units[line.node, default: 0] += line.quantity }
        let now = options.clock.now().millisecondsSinceEpoch
        var batch = RecordBatch()
        for (node, quantity) in units.sorted(by: { $0.key < $1.key }) {
            // A node outside the network (a caller's own) counts its days in UTC.
            let day = localDays.day(in: table.settings[node]?.timezone ?? "UTC", at: now)
            batch.add(Self.releasedKey(node: node, day: day.label), quantity)
        }
        return batch
    }

    /// A count (`set`) is judged against on hand read just before it: a
    /// change to the same position committing in between moves the figure
    /// by that change (the books themselves stay exact).
    private func shrinkCounts(_ request: AdjustRequest) -> RecordBatch? {
        let units: Int64
        switch request.change {
        case .delta(let delta): units = -delta
        case .set(let count):
            guard let position = try? position(node: request.node, sku: request.sku) else { return nil }
            units = position.onHand - count
        }
        guard units > 0 else { return nil }
        var batch = RecordBatch()
        batch.add(
            insights: [InsightAddition(.unitsShrunk, .all, units), InsightAddition(.unitsShrunk, .node(request.node), units)],
            atMs: options.clock.now().millisecondsSinceEpoch)
        return batch
    }

    /// `records` with the command's counters added (see `commandCounters`).
    func withCommandCounters(_ command: LedgerCommand, _ records: RecordBatch?) -> RecordBatch? {
        guard let counts = commandCounters(command) else { return records }
        var batch = records ?? RecordBatch()
        batch.append(counts)
        return batch
    }
}

/// A node's stored settings with the revision that wrote them.
struct StoredNodeSettings: StoredRecord, Hashable {
    var revision: Int64
    var settings: NodeSettings

    init(revision: Int64, settings: NodeSettings) {
        self.revision = revision
        self.settings = settings
    }

    func write(to writer: inout ByteWriter) {
        writer.write(revision)
        settings.write(to: &writer)
    }

    init(from reader: inout ByteReader) throws(FulcrumError) {
        self.init(revision: try reader.read(Int64.self), settings: try NodeSettings(from: &reader))
    }
}
