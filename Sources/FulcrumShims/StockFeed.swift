import Foundation
import FulcrumClient
import FulcrumCore
import FulcrumWire
import Logging

/// One line of a stock feed from a WMS, POS or ERP: a count (on hand is
/// `quantity`, as of a time) or a change (`delta`).
public struct StockLine: Hashable, Sendable {
    public var node: String
    public var sku: String
    public var change: AdjustRequest.Change
    /// When a count was taken; nil: now.
    public var asOf: Timestamp?
    public var reason: String
    /// Where the line is in its feed (`line 3`), for error paths.
    public var label: String
}

/// A stock feed's lines into the ledger. Counts are first set against the
/// ledger as it stood when they were taken (a reconciliation report: every
/// difference by node and SKU), then every line is applied in order as an
/// adjustment carrying the feed's source and reference, keyed
/// `feed:SOURCE:REFERENCE:LABEL` so a feed read again applies nothing twice.
/// A count taken before changes the ledger already applied keeps them.
///
/// Lines: `node`, `sku`, and either `quantity` (a count) or `delta`;
/// optionally `as_of_ms` (with `quantity`) and `reason`. CSV has them as
/// header columns; JSONL and webhook bodies as keys. With a mapping group,
/// `node` and `sku` are the source's ids (its `locations` and `skus`).
public struct StockFeed: Sendable {
    /// The report of the counts' differences from the ledger.
    public static let reconciliationSuffix = ".reconciliation.jsonl"
    public let source: String
    let mapping: MappingGroup?

    public init(source: String, mapping: MappingGroup?) {
        self.source = source
        self.mapping = mapping
    }

    // MARK: Reading

    /// The lines of a CSV file, or each line's typed error.
    public func parseCSV(_ data: Data) -> [Result<StockLine, FulcrumError>] {
        let rows: [(line: Int, fields: [String])]
        do {
            rows = try CSVOrders.records(data)
        } catch {
            return [.failure(error)]
        }
        guard let header = rows.first?.fields else { return [] }
        let column = Dictionary(header.enumerated().map { ($0.element, $0.offset) }, uniquingKeysWith: { first, _ in first })
        for required in ["node", "sku"] where column[required] == nil {
            return [.failure(FulcrumError(.invalidArgument, "the header has no \(required) column", path: "line 1"))]
        }
        guard column["quantity"] != nil || column["delta"] != nil else {
            return [.failure(FulcrumError(.invalidArgument, "the header has neither quantity nor delta", path: "line 1"))]
        }
        return rows.dropFirst().map { line, row in
            func field(_ name: String) -> String? {
                column[name].flatMap { $0 < row.count && !row[$0].isEmpty ? row[$0] : nil }
            }
            return Result { () throws(FulcrumError) in
                try self.line(
                    label: "line \(line)", node: field("node"), sku: field("sku"),
                    quantity: try integer(field("quantity"), path: "line \(line).quantity"),
                    delta: try integer(field("delta"), path: "line \(line).delta"),
                    asOfMs: try integer(field("as_of_ms"), path: "line \(line).as_of_ms"), reason: field("reason"))
            }
        }
    }

    /// The lines of a JSONL file (one object a line), or each line's typed error.
    public func parseJSONL(_ data: Data) -> [Result<StockLine, FulcrumError>] {
        let lines: [Substring] = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline)
        return lines.enumerated().map { offset, text in
            Result { () throws(FulcrumError) in
                try line(Data(String(text).utf8), label: "line \(offset + 1)")
            }
        }
    }

    /// A webhook body: `{"source_reference", "lines": [{...}, ...]}`; a body
    /// that does not decode fails whole.
    public func parseBody(_ data: Data) throws(FulcrumError) -> (reference: String, lines: [Result<StockLine, FulcrumError>]) {
        let body = try decodeJSON(Body.self, from: data, snakeCase: true)
        guard !body.sourceReference.isEmpty, body.sourceReference.utf8.count <= Limits.sourceBytesMax else {
            throw FulcrumError(
                .invalidArgument, "source_reference must be 1 to \(Limits.sourceBytesMax) bytes", path: "source_reference")
        }
        guard body.lines.count <= Limits.batchItemsMax else {
            throw FulcrumError(.invalidArgument, "\(body.lines.count) lines; the limit is \(Limits.batchItemsMax)", path: "lines")
        }
        let lines = body.lines.enumerated().map { index, item in
            Result { () throws(FulcrumError) in
                try line(
                    label: "lines[\(index)]", node: item.node, sku: item.sku, quantity: item.quantity, delta: item.delta,
                    asOfMs: item.asOfMs, reason: item.reason)
            }
        }
        return (body.sourceReference, lines)
    }

    struct Item: Decodable {
        var node: String?
        var sku: String?
        var quantity: Int64?
        var delta: Int64?
        var asOfMs: Int64?
        var reason: String?
        enum CodingKeys: String, CodingKey, CaseIterable { case node, sku, quantity, delta, asOfMs, reason }
        init(from decoder: any Decoder) throws {
            try decoder.refuseUnknownFields(CodingKeys.self)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            node = try c.decodeIfPresent(String.self, forKey: .node)
            sku = try c.decodeIfPresent(String.self, forKey: .sku)
            quantity = try c.decodeIntegerIfPresent(forKey: .quantity)
            delta = try c.decodeIntegerIfPresent(forKey: .delta)
            asOfMs = try c.decodeIntegerIfPresent(forKey: .asOfMs)
            reason = try c.decodeIfPresent(String.self, forKey: .reason)
        }
    }

    struct Body: Decodable {
        var sourceReference: String
        var lines: [Item]
    }

    private func line(_ json: Data, label: String) throws(FulcrumError) -> StockLine {
        let item: Item
        do {
            item = try decodeJSON(Item.self, from: json, snakeCase: true)
        } catch {
            throw FulcrumError(error.code, error.message, path: "\(label): \(error.path)")
        }
        return try line(
            label: label, node: item.node, sku: item.sku, quantity: item.quantity, delta: item.delta, asOfMs: item.asOfMs,
            reason: item.reason)
    }

    private func integer(_ text: String?, path: String) throws(FulcrumError) -> Int64? {
        guard let text else { return nil }
        guard let value = Int64(text) else { throw FulcrumError(.invalidArgument, "'\(text)' is not a whole number", path: path) }
        return value
    }

    private func line(
        label: String, node: String?, sku: String?, quantity: Int64?, delta: Int64?, asOfMs: Int64?, reason: String?
    ) throws(FulcrumError) -> StockLine {
        guard let node else { throw FulcrumError(.invalidArgument, "the line has no node", path: "\(label).node") }
        guard let sku else { throw FulcrumError(.invalidArgument, "the line has no sku", path: "\(label).sku") }
        let change: AdjustRequest.Change
        switch (quantity, delta) {
        case (let quantity?, nil): change = .set(quantity)
        case (nil, let delta?):
            guard asOfMs == nil else {
                throw FulcrumError(.invalidArgument, "as_of_ms goes with quantity (a count), not delta", path: "\(label).as_of_ms")
            }
            change = .delta(delta)
        default: throw FulcrumError(.invalidArgument, "give exactly one of quantity and delta", path: "\(label).quantity")
        }
        return StockLine(
            node: try mapping?.location(node, path: "\(label).node") ?? node, sku: try mapping?.sku(sku, path: "\(label).sku") ?? sku,
            change: change, asOf: asOfMs.map(Timestamp.init(millisecondsSinceEpoch:)), reason: reason ?? "", label: label)
    }

    // MARK: Applying

    /// Reconciles the feed's counts, then applies every line; refused lines'
    /// errors and the reconciliation (JSON lines) are in the outcome.
    /// fulcrumd busy or gone throws, and a retry applies nothing twice.
    public func apply(_ parsed: [Result<StockLine, FulcrumError>], reference: String, client: FulcrumClient)
        async throws(FulcrumError) -> FileOutcome
    {
        var outcome = FileOutcome()
        var lines: [StockLine] = []
        var counted = Set<[String]>()
        for result in parsed {
            switch result {
            case .failure(let error):
                outcome.failed += 1
                outcome.errors.append(error)
            case .success(let line):
                if case .set = line.change,
                    !counted.insert([line.node, line.sku, "\(line.asOf?.millisecondsSinceEpoch ?? 0)"]).inserted
                {
                    outcome.failed += 1
                    outcome.errors.append(
                        FulcrumError(.invalidArgument, "\(line.node)/\(line.sku) is counted twice in this feed", path: line.label))
                    continue
                }
                lines.append(line)
            }
        }
        outcome.reports[Self.reconciliationSuffix] = try await reconcile(lines, client: client, outcome: &outcome)
        for start in stride(from: 0, to: lines.count, by: Limits.batchItemsMax) {
            let chunk = lines[start..<min(start + Limits.batchItemsMax, lines.count)]
            let answer = try await client.adjustBatch(
                .with { batch in batch.items = chunk.map { request($0, reference: reference) } })
            for (line, item) in zip(chunk, answer.items) {
                if case .error(let error)? = item.result {
                    outcome.failed += 1
                    let code = FulcrumError.Code(rawValue: error.code)
                    outcome.errors.append(FulcrumError(code, error.message, path: "\(line.label): \(error.path)"))
                } else {
                    outcome.accepted += 1
                }
            }
        }
        return outcome
    }

    private func request(_ line: StockLine, reference: String) -> Fulcrum_V1_AdjustRequest {
        .with {
            $0.node = line.node
            $0.sku = line.sku
            switch line.change {
            case .set(let quantity): $0.set = quantity
            case .delta(let delta): $0.delta = delta
            }
            $0.reason = line.reason
            $0.source = source
            $0.sourceReference = reference
            $0.asOfMs = line.asOf?.millisecondsSinceEpoch ?? 0
            $0.idempotencyKey = "feed:\(source):\(reference):\(line.label)"
        }
    }

    /// The counts against the ledger, one call per count time (in chunks):
    /// each difference as a JSON line. A count time the ledger cannot reach
    /// back to is an error line; its counts then fail on their own too.
    private func reconcile(_ lines: [StockLine], client: FulcrumClient, outcome: inout FileOutcome) async throws(FulcrumError)
        -> [JSON]
    {
        var byTime: [Int64: [StockLine]] = [:]
        for line in lines {
            if case .set = line.change { byTime[line.asOf?.millisecondsSinceEpoch ?? 0, default: []].append(line) }
        }
        var differences: [JSON] = []
        for asOfMs in byTime.keys.sorted() {
            let counts = byTime[asOfMs]!
            for start in stride(from: 0, to: counts.count, by: Limits.batchItemsMax) {
                let chunk = counts[start..<min(start + Limits.batchItemsMax, counts.count)]
                let request = Fulcrum_V1_ReconcileRequest.with { request in
                    request.asOfMs = asOfMs
                    request.counts = chunk.map { line in
                        .with {
                            $0.node = line.node
                            $0.sku = line.sku
                            if case .set(let quantity) = line.change { $0.quantity = quantity }
                        }
                    }
                }
                let answer: Fulcrum_V1_ReconcileResponse
                do {
                    answer = try await client.reconcile(request)
                } catch where [.overloaded, .unavailable].contains(error.code) {
                    throw error
                } catch {
                    outcome.errors.append(FulcrumError(error.code, "reconciliation: \(error.message)", path: error.path))
                    continue
                }
                for difference in answer.differences {
                    differences.append(
                        JSON.orderedObject([
                            ("node", .string(difference.node)), ("sku", .string(difference.sku)),
                            ("quantity", .integer(difference.quantity)), ("ledger_quantity", .integer(difference.ledgerQuantity)),
                            ("difference", .integer(difference.difference)), ("as_of_ms", .integer(asOfMs)),
                        ]))
                }
            }
        }
        return differences
    }
}

/// Stock files: each a feed whose reference is the file's name.
public struct StockFiles: FileImporter {
    public let items = "stock lines"
    let feed: StockFeed
    let client: FulcrumClient

    public init(feed: StockFeed, client: FulcrumClient) {
        self.feed = feed
        self.client = client
    }

    public func importFile(name: String, data: Data) async throws(FulcrumError) -> FileOutcome {
        let lines = name.hasSuffix(".csv") ? feed.parseCSV(data) : feed.parseJSONL(data)
        return try await feed.apply(lines, reference: name, client: client)
    }
}
