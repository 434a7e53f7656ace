import CSV
import Foundation
import FulcrumClient
import FulcrumCore
import FulcrumWire
import Logging

/// What a file drop does with one file: orders (`OrderFiles`) or stock
/// (`StockFiles`).
public protocol FileImporter: Sendable {
    /// What the files hold, for log lines ("orders", "stock lines").
    var items: String { get }
    /// Imports one file. A throw (fulcrumd busy or gone) leaves the file
    /// unfinished, to be read again; item failures are in the outcome.
    func importFile(name: String, data: Data) async throws(FulcrumError) -> FileOutcome
}

/// One file's import: its items' counts, each refused item's typed error,
/// and reports to write beside it as JSON lines (by name suffix).
public struct FileOutcome: Sendable {
    public var accepted = 0
    public var duplicate = 0
    public var failed = 0
    public var errors: [FulcrumError] = []
    public var reports: [String: [JSON]] = [:]
    public init() {}
}

/// A file-drop intake: polls a directory for `*.csv` and `*.jsonl` files,
/// imports each with its `FileImporter`, and records finished files in a
/// checkpoint (`.fulcrum-checkpoint.json` in the directory) so a file is
/// imported once. Importers key each item by file name, so a crash between
/// an import and the checkpoint imports nothing twice. Refused items are
/// written with their typed errors to `NAME.errors.jsonl`; the rest of the
/// file goes on.
public final class FileDrop: Sendable {
    public static let checkpointName = ".fulcrum-checkpoint.json"
    /// Files the drop writes itself, never imported.
    static let reportSuffixes = [".errors.jsonl", StockFeed.reconciliationSuffix]

    public struct Report: Sendable, Hashable {
        public var files = 0
        public var accepted = 0
        public var duplicate = 0
        public var failed = 0
    }

    let directory: String
    let importer: any FileImporter
    let logger: Logger

    public init(directory: String, importer: any FileImporter, logger: Logger) {
        self.directory = directory
        self.importer = importer
        self.logger = logger
    }

    /// Polls every `intervalMilliseconds` until cancelled.
    public func run(intervalMilliseconds: Int) async {
        while !Task.isCancelled {
            do {
                _ = try await scan()
            } catch {
                logger.warning("file drop \(directory): \(error)")
            }
            try? await Task.sleep(for: .milliseconds(intervalMilliseconds))
        }
    }

    /// Imports every file not yet in the checkpoint, in name order.
    public func scan() async throws(FulcrumError) -> Report {
        var checkpoint = loadCheckpoint()
        var report = Report()
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { name in
                (name.hasSuffix(".csv") || name.hasSuffix(".jsonl")) && !Self.reportSuffixes.contains { name.hasSuffix($0) }
            }
            .sorted()
        for name in names where checkpoint[name] == nil {
            guard let data = FileManager.default.contents(atPath: directory + "/" + name) else { continue }
            let outcome = try await importer.importFile(name: name, data: data)
            var reports = outcome.reports
            if !outcome.errors.isEmpty { reports[".errors.jsonl"] = outcome.errors.map(\.lineJSON) }
            for (suffix, lines) in reports where !lines.isEmpty {
                let contents = Data((lines.map(\.rendered).joined(separator: "\n") + "\n").utf8)
                _ = FileManager.default.createFile(atPath: directory + "/" + name + suffix, contents: contents)
            }
            checkpoint[name] = data.count
            try saveCheckpoint(checkpoint)
            report.files += 1
            report.accepted += outcome.accepted
            report.duplicate += outcome.duplicate
            report.failed += outcome.failed
            logger.info("file drop: \(name): \(outcome.accepted + outcome.duplicate + outcome.failed) \(importer.items), \(outcome.failed) refused")
        }
        return report
    }

    private func loadCheckpoint() -> [String: Int] {
        guard let data = FileManager.default.contents(atPath: directory + "/" + Self.checkpointName),
            let files = try? JSONDecoder().decode([String: Int].self, from: data)
        else { return [:] }
        return files
    }

    /// Written to a temporary file and renamed: a crash leaves the old checkpoint or the new one.
    private func saveCheckpoint(_ files: [String: Int]) throws(FulcrumError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let path = directory + "/" + Self.checkpointName
        do {
            try encoder.encode(files).write(to: URL(fileURLWithPath: path + ".tmp"), options: .atomic)
        } catch {
            throw FulcrumError(.storage, "cannot write the checkpoint: \(error)", path: path)
        }
        guard rename(path + ".tmp", path) == 0 else {
            throw FulcrumError(.storage, "cannot write the checkpoint: \(String(cString: strerror(errno)))", path: path)
        }
    }
}

/// Orders: each submitted as `order.created`, keyed `file:NAME:ORDER`.
///
/// CSV (as spreadsheets export it: quoted fields, CRLF, a byte-order mark):
/// a header row naming at least `order_id, line_id, sku, quantity`, and
/// optionally `latitude, longitude, region, country, postal_code, city,
/// shipping_method`; one row per order line (an order's rows share its id).
/// JSONL: one order per line, `{"id", "lines": [{"id", "sku", "quantity"}],
/// "ship_to": {"latitude", "longitude", "region", ...}, "shipping_method",
/// "attributes": {...}}`. SKUs and shipping methods go through the mapping group.
public struct OrderFiles: FileImporter {
    public let items = "orders"
    let mapping: MappingGroup
    let client: FulcrumClient

    public init(mapping: MappingGroup, client: FulcrumClient) {
        self.mapping = mapping
        self.client = client
    }

    public func importFile(name: String, data: Data) async throws(FulcrumError) -> FileOutcome {
        var outcome = FileOutcome()
        let orders = name.hasSuffix(".csv") ? CSVOrders.parse(data, mapping: mapping) : JSONLOrders.parse(data, mapping: mapping)
        for parsed in orders {
            switch parsed {
            case .failure(let error):
                outcome.failed += 1
                outcome.errors.append(error)
            case .success(let intake):
                do {
                    let answer = try await client.call(
                        .submitEvent, Fulcrum_V1_SubmitEventRequest.with {
                            $0.event = "order.created"
                            $0.order = intake.id
                            $0.intake = intake
                            $0.source = "file"
                            $0.idempotencyKey = "file:\(name):\(intake.id)"
                        }, as: Fulcrum_V1_SubmitEventResponse.self)
                    if answer.duplicate { outcome.duplicate += 1 } else { outcome.accepted += 1 }
                } catch where [.overloaded, .unavailable].contains(error.code) {
                    throw error  // fulcrumd is busy or gone: the file stays unfinished and is read again
                } catch {
                    outcome.failed += 1
                    outcome.errors.append(FulcrumError(error.code, error.message, path: "\(intake.id): \(error.path)"))
                }
            }
        }
        return outcome
    }
}

extension FulcrumError {
    /// The error as one JSON line of a report.
    var lineJSON: JSON {
        .orderedObject([("code", .string(code.rawValue)), ("message", .string(message)), ("path", .string(path))])
    }
}

/// Orders from CSV rows.
enum CSVOrders {
    static func parse(_ data: Data, mapping: MappingGroup) -> [Result<Fulcrum_V1_OrderIntake, FulcrumError>] {
        let rows: [(line: Int, fields: [String])]
        do {
            rows = try records(data)
        } catch {
            return [.failure(error)]
        }
        guard let header = rows.first?.fields else { return [] }
        let column = Dictionary(header.enumerated().map { ($0.element, $0.offset) }, uniquingKeysWith: { first, _ in first })
        for required in ["order_id", "line_id", "sku", "quantity"] where column[required] == nil {
            return [.failure(FulcrumError(.invalidArgument, "the header has no \(required) column", path: "line 1"))]
        }
        var order: [String] = []
        var intakes: [String: Result<Fulcrum_V1_OrderIntake, FulcrumError>] = [:]
        for (line, row) in rows.dropFirst() {
            func field(_ name: String) -> String? {
                column[name].flatMap { $0 < row.count && !row[$0].isEmpty ? row[$0] : nil }
            }
            guard let id = field("order_id") else {
                let failure = FulcrumError(.invalidArgument, "the row has no order_id", path: "line \(line)")
                order.append("line \(line)")
                intakes["line \(line)"] = .failure(failure)
                continue
            }
            if intakes[id] == nil {
                order.append(id)
                var intake = Fulcrum_V1_OrderIntake()
                intake.id = id
                intake.source = "file"
                intakes[id] = .success(intake)
            }
            guard case .success(var intake) = intakes[id]! else { continue }
            do throws(FulcrumError) {
                guard let quantity = field("quantity").flatMap(Int64.init) else {
                    throw FulcrumError(.invalidArgument, "quantity is not a whole number", path: "line \(line).quantity")
                }
                let sku = try mapping.sku(field("sku") ?? "", path: "line \(line).sku")
                intake.lines.append(.init(id: field("line_id") ?? "\(line)", sku: sku, quantity: quantity))
                // The order's first row gives its address.
                if intake.lines.count == 1 {
                    let latitude = try field("latitude").map { text throws(FulcrumError) in
                        try Coordinate(text: text, path: "line \(line).latitude")
                    }
                    let longitude = try field("longitude").map { text throws(FulcrumError) in
                        try Coordinate(text: text, path: "line \(line).longitude")
                    }
                    intake.shipTo = .init(
                        latitude: latitude, longitude: longitude,
                        region: field("region"), country: field("country"), postalCode: field("postal_code"), city: field("city"))
                }
                if let method = field("shipping_method") {
                    intake.shippingMethod = try mapping.shippingMethod(method, path: "line \(line).shipping_method")
                }
                intakes[id] = .success(intake)
            } catch {
                intakes[id] = .failure(FulcrumError(error.code, error.message, path: "\(id): \(error.path)"))
            }
        }
        return order.map { intakes[$0]! }
    }

    /// The file's records (CSV.swift: quoted fields with commas, quotes and
    /// line breaks, CRLF, a UTF-8 byte-order mark), each with the line it
    /// starts on; blank lines are skipped. Malformed CSV is `invalid_argument` at its line.
    static func records(_ data: Data) throws(FulcrumError) -> [(line: Int, fields: [String])] {
        // Quotes come in pairs in CSV (around a field, and doubled inside one);
        // CSV.swift would take an unterminated quote to the end of the file.
        let quotes = data.indices.filter { data[$0] == UInt8(ascii: "\"") }
        if quotes.count % 2 == 1, let last = quotes.last {
            let line = 1 + data[..<last].reduce(0) { $1 == UInt8(ascii: "\n") ? $0 + 1 : $0 }
            throw FulcrumError(.invalidArgument, "a quoted field is not closed", path: "line \(line)")
        }
        let reader: CSVReader
        do {
            reader = try CSVReader(stream: InputStream(data: data), hasHeaderRow: false, trimFields: true)
        } catch {
            throw FulcrumError(.invalidArgument, "not readable as CSV: \(error)", path: "line 1")
        }
        var rows: [(line: Int, fields: [String])] = []
        var line = 1
        while let fields = reader.next() {
            if fields.contains(where: { !$0.isEmpty }) { rows.append((line, fields)) }
            line += 1 + fields.reduce(0) { $0 + $1.reduce(0) { $1 == "\n" || $1 == "\r\n" ? $0 + 1 : $0 } }
        }
        if let error = reader.error {
            throw FulcrumError(.invalidArgument, "not valid CSV: \(error)", path: "line \(line)")
        }
        return rows
    }
}

/// Orders from JSON lines.
enum JSONLOrders {
    struct Order: Decodable {
        struct Line: Decodable {
            var id: String
            var sku: String
            var quantity: Int64
        }
        struct ShipTo: Decodable {
            var latitude: Coordinate?
            var longitude: Coordinate?
            var region: String?
            var country: String?
            var postalCode: String?
            var city: String?
        }
        var id: String
        var lines: [Line]
        var shipTo: ShipTo?
        var shippingMethod: String?
        var attributes: [String: String]?
    }

    static func parse(_ data: Data, mapping: MappingGroup) -> [Result<Fulcrum_V1_OrderIntake, FulcrumError>] {
        let lines: [Substring] = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline)
        return lines.enumerated().map { offset, text in
            let line = offset + 1
            do throws(FulcrumError) {
                let order: Order
                do throws(FulcrumError) {
                    order = try decodeJSON(Order.self, from: Data(String(text).utf8), snakeCase: true)
                } catch {
                    throw FulcrumError(error.code, error.message, path: "line \(line): \(error.path)")
                }
                var intake = Fulcrum_V1_OrderIntake()
                intake.id = order.id
                intake.source = "file"
                for (index, item) in order.lines.enumerated() {
                    let sku = try mapping.sku(item.sku, path: "line \(line): lines[\(index)].sku")
                    intake.lines.append(.init(id: item.id, sku: sku, quantity: item.quantity))
                }
                if let shipTo = order.shipTo {
                    intake.shipTo = .init(
                        latitude: shipTo.latitude, longitude: shipTo.longitude, region: shipTo.region, country: shipTo.country,
                        postalCode: shipTo.postalCode, city: shipTo.city)
                }
                if let method = order.shippingMethod {
                    intake.shippingMethod = try mapping.shippingMethod(method, path: "line \(line): shipping_method")
                }
                intake.attributes = order.attributes ?? [:]
                return .success(intake)
            } catch {
                return .failure(error)
            }
        }
    }
}
