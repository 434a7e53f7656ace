import Foundation
import FulcrumConfig
import FulcrumCore

extension Scenario {
    /// How deep `extends:` chains may go.
    static let extendsDepthMax = 8

    /// Loads a scenario from a YAML file, or from a directory's `scenario.yaml`,
    /// following `extends:`. Errors are `invalid_scenario` with the path
    /// `FILE:LINE:COLUMN: field`.
    public static func load(path: String) throws(FulcrumError) -> Scenario {
        try decode(try document(path: resolve(path), depth: 0))
    }

    /// A scenario from YAML text (`file` names it in errors); `extends:` is
    /// resolved relative to `file`'s directory.
    public static func parse(yaml: String, file: String) throws(FulcrumError) -> Scenario {
        try decode(try document(yaml: yaml, file: file, depth: 0))
    }

    private static func resolve(_ path: String) -> String {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            return (path as NSString).appendingPathComponent("scenario.yaml")
        }
        return path
    }

    private static func document(path: String, depth: Int) throws(FulcrumError) -> Document {
        guard let data = FileManager.default.contents(atPath: path), let yaml = String(data: data, encoding: .utf8) else {
            throw FulcrumError(.invalidScenario, "cannot read the scenario file (missing, or not UTF-8)", path: path)
        }
        return try document(yaml: yaml, file: path, depth: depth)
    }

    private static func document(yaml: String, file: String, depth: Int) throws(FulcrumError) -> Document {
        let document = try Document.parse(yaml: yaml, file: file, code: .invalidScenario)
        let reader = try FieldReader(document, path: "", code: .invalidScenario)
        guard let base = try reader.string("extends") else { return document }
        guard depth < extendsDepthMax else {
            throw reader.error("extends", "extends goes more than \(extendsDepthMax) files deep (a cycle?)")
        }
        let directory = (file as NSString).deletingLastPathComponent
        let basePath = resolve(base.hasPrefix("/") ? base : (directory as NSString).appendingPathComponent(base))
        return document.removing("extends").merged(over: try Self.document(path: basePath, depth: depth + 1))
    }

    // MARK: Decoding

    static func decode(_ document: Document) throws(FulcrumError) -> Scenario {
        let top = try FieldReader(document, path: "", code: .invalidScenario)
        let version = try top.requiredInt("version", in: Int.min...Int.max)
        guard version == formatVersion else {
            throw top.error("version", "format version \(version) is not supported (this build reads \(formatVersion))")
        }
        let name = try top.requiredName("name")
        let description = try top.string("description") ?? ""
        let startText = try top.requiredString("start")
        guard let start = Timestamp(date: startText) else { throw top.error("start", "'\(startText)' is not a date YYYY-MM-DD") }
        let days = try top.requiredInt("days", in: 1...366)
        let seed = UInt64(try top.int("seed", in: 0...Int.max) ?? 1)

        guard let network = try top.mapping("network") else { throw top.error("network", "is required") }
        let nodes = try network.records("nodes", decodeNode)
        try network.finish()
        guard !nodes.isEmpty else { throw network.error("nodes", "must list at least one node") }
        let nodeIDs = try unique(nodes.map(\.node.id), in: network, key: "nodes")
        do {
            _ = try OptimizeRequest.validate(nodes: nodes.map(\.node), path: "network.nodes")
        } catch {
            throw network.error("nodes", "\(error.path): \(error.message)")
        }

        let catalogue = try decodeCatalogue(top)
        let skuIDs = try unique(catalogue.allSKUIDs, in: top, key: "catalogue")
        let stock = try decodeStock(top, nodeIDs: nodeIDs, skuIDs: skuIDs)
        let supply = try top.records("supply") { (reader: FieldReader) throws(FulcrumError) in
            try decodeSupplyEvent(reader, days: days, nodeIDs: nodeIDs, skuIDs: skuIDs)
        }
        let rates = try top.rates("rates") ?? Rates()
        let rules = try top.rules("rules", nodeIDs: nodeIDs, nodesOf: "the scenario") ?? Rules()
        var scenario = Scenario(
            name: name, description: description, start: start, days: days, seed: seed, nodes: nodes,
            catalogue: catalogue, stock: stock, supply: supply, rates: rates, rules: rules, demand: .orders([]),
            replay: try decodeReplay(top.mapping("replay")))
        scenario.demand = try decodeDemand(top, scenario: scenario, nodeIDs: nodeIDs, skuIDs: skuIDs)
        try top.finish()
        return scenario
    }

    private static func unique(_ ids: [String], in reader: FieldReader, key: String) throws(FulcrumError) -> Set<String> {
        var seen = Set<String>()
        for id in ids where !seen.insert(id).inserted {
            throw reader.error(key, "'\(id)' is listed twice")
        }
        return seen
    }

    private static func decodeNode(_ reader: FieldReader) throws(FulcrumError) -> ScenarioNode {
        let node = Node(
            id: try reader.requiredName("id"),
            kind: try reader.choice("kind", NodeKind.self) ?? .warehouse,
            location: Location(
                latitude: try reader.requiredDouble("latitude", in: -90...90),
                longitude: try reader.requiredDouble("longitude", in: -180...180),
                region: try reader.string("region")),
            enabled: try reader.bool("enabled") ?? true,
            canShip: try reader.bool("can_ship") ?? true,
            costPerShipment: try reader.double("cost_per_shipment", in: 0...Limits.moneyMax) ?? 0,
            costPerUnit: try reader.double("cost_per_unit", in: 0...Limits.moneyMax) ?? 0)
        let capacity = try reader.int("capacity_per_day", in: 0...Int(Limits.quantityMax))
        if try reader.bool("remove") == true {
            throw reader.error("remove", "remove: true drops a node of the base scenario; use it in a file with extends:")
        }
        return ScenarioNode(node: node, capacityPerDayUnits: capacity)
    }

    private static func decodeCatalogue(_ top: FieldReader) throws(FulcrumError) -> Catalogue {
        guard let reader = try top.mapping("catalogue") else { throw top.error("catalogue", "is required") }
        let skus = try reader.records("skus") { (sku: FieldReader) throws(FulcrumError) in
            SKU(
                id: try sku.requiredName("id"), weightKilograms: try sku.double("weight_kg", in: Limits.weightKgMin...Limits.weightKgMax) ?? 1,
                category: try sku.string("category"))
        }
        var generated: Catalogue.Generated?
        if let generate = try reader.mapping("generate") {
            let categories = try generate.records("categories") { (category: FieldReader) throws(FulcrumError) in
                let minimum = try category.requiredDouble("weight_kg_min", in: Limits.weightKgMin...Limits.weightKgMax)
                let maximum = try category.requiredDouble("weight_kg_max", in: Limits.weightKgMin...Limits.weightKgMax)
                guard minimum <= maximum else { throw category.error("weight_kg_max", "must be at least weight_kg_min") }
                return Catalogue.Generated.Category(
                    name: try category.requiredName("name"), share: try category.requiredDouble("share", in: Limits.shareMin...Limits.shareMax),
                    weightKilograms: minimum...maximum)
            }
            guard !categories.isEmpty else { throw generate.error("categories", "must list at least one category") }
            generated = Catalogue.Generated(
                count: try generate.requiredInt("count", in: 1...1_000_000),
                prefix: try generate.string("prefix") ?? "SKU-", categories: categories)
            try generate.finish()
        }
        try reader.finish()
        guard !skus.isEmpty || generated != nil else { throw top.error("catalogue", "lists no SKUs and generates none") }
        return Catalogue(skus: skus, generated: generated)
    }

    private static func decodeStock(_ top: FieldReader, nodeIDs: Set<String>, skuIDs: Set<String>) throws(FulcrumError)
        -> StockPlan
    {
        guard let reader = try top.mapping("stock") else { return StockPlan(positions: [], rules: []) }
        let positions = try reader.records("positions") { (position: FieldReader) throws(FulcrumError) in
            StockPlan.Position(
                node: try reference(position, "node", in: nodeIDs), sku: try reference(position, "sku", in: skuIDs),
                onHand: try position.requiredInt("on_hand", in: 0...Int(Limits.quantityMax)),
                safetyStock: try position.int("safety_stock", in: 0...Int(Limits.quantityMax)) ?? 0)
        }
        let rules = try reader.records("generate") { (rule: FieldReader) throws(FulcrumError) in
            let kind = try rule.choice("kind", NodeKind.self)
            var nodes: [String] = []
            for item in try rule.list("nodes") {
                guard case .scalar(let id) = item.document.value, nodeIDs.contains(id) else {
                    throw FieldReader.error(.invalidScenario, item.document.location, item.path, "is not a node of the network")
                }
                nodes.append(id)
            }
            guard (kind == nil) != nodes.isEmpty else { throw rule.error("kind", "give either kind or nodes") }
            return StockPlan.Rule(
                kind: kind, nodes: nodes, topSKUs: try rule.int("top_skus", in: 1...Int(Int32.max)),
                unitsPerNode: try rule.requiredInt("units_per_node", in: 0...Int(Limits.quantityMax)),
                minimumUnits: try rule.int("min_units", in: 0...1_000_000) ?? 0,
                safetyStock: try rule.int("safety_stock", in: 0...1_000_000) ?? 0)
        }
        try reader.finish()
        return StockPlan(positions: positions, rules: rules)
    }

    static func reference(_ reader: FieldReader, _ key: String, in ids: Set<String>) throws(FulcrumError) -> String {
        let id = try reader.requiredName(key)
        guard ids.contains(id) else { throw reader.error(key, "'\(id)' is not defined in the scenario") }
        return id
    }

    private static func decodeSupplyEvent(_ reader: FieldReader, days: Int, nodeIDs: Set<String>, skuIDs: Set<String>)
        throws(FulcrumError) -> SupplyEvent
    {
        let day = try reader.requiredInt("day", in: 0...(days - 1))
        let minutes = try minutesOfDay(reader)
        let type = try reader.requiredString("type")
        let kind: SupplyEvent.Kind
        switch type {
        case "receipt":
            kind = .receipt(
                node: try reference(reader, "node", in: nodeIDs), sku: try reference(reader, "sku", in: skuIDs),
                quantity: try reader.requiredInt("quantity", in: 1...Int(Limits.quantityMax)))
        case "transfer":
            let from = try reference(reader, "from", in: nodeIDs)
            let to = try reference(reader, "to", in: nodeIDs)
            guard from != to else { throw reader.error("to", "a transfer goes to another node") }
            kind = .transfer(
                from: from, to: to, sku: try reference(reader, "sku", in: skuIDs),
                quantity: try reader.requiredInt("quantity", in: 1...Int(Limits.quantityMax)),
                transitMinutes: (try reader.double("transit_hours", in: 0...24 * 366) ?? 24) * 60)
        case "offline", "online":
            kind = .nodeEnabled(node: try reference(reader, "node", in: nodeIDs), enabled: type == "online")
        case "adjustment":
            let quantity = try reader.requiredInt("quantity", in: -Int(Limits.quantityMax)...Int(Limits.quantityMax))
            guard quantity != 0 else { throw reader.error("quantity", "an adjustment moves on hand by a number of units other than 0") }
            kind = .adjustment(node: try reference(reader, "node", in: nodeIDs), sku: try reference(reader, "sku", in: skuIDs), quantity: quantity)
        default:
            throw reader.error("type", "'\(type)' is not receipt, transfer, adjustment, offline or online")
        }
        return SupplyEvent(day: day, minutes: minutes, kind: kind)
    }

    /// `time: "HH:MM"` within the day (default midnight).
    static func minutesOfDay(_ reader: FieldReader) throws(FulcrumError) -> Double {
        guard let text = try reader.string("time") else { return 0 }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let hours = Int(parts[0]), let minutes = Int(parts[1]), (0..<24).contains(hours),
            (0..<60).contains(minutes)
        else { throw reader.error("time", "'\(text)' is not a time HH:MM") }
        return Double(hours * 60 + minutes)
    }

    private static func decodeReplay(_ reader: FieldReader?) throws(FulcrumError) -> ReplaySettings {
        var settings = ReplaySettings(
            strategy: .optimal, batchMinutes: 0, reservationTTLMinutes: 30, shipAfterMinutes: 240,
            timeLimitMilliseconds: Limits.solveTimeLimitMsDefault)
        guard let reader else { return settings }
        settings.strategy = try reader.choice("strategy", Strategy.self) ?? settings.strategy
        settings.batchMinutes = try reader.int("batch_minutes", in: 0...1440) ?? settings.batchMinutes
        settings.reservationTTLMinutes = try reader.int("reservation_ttl_minutes", in: 1...10_080) ?? settings.reservationTTLMinutes
        settings.shipAfterMinutes = try reader.int("ship_after_minutes", in: 0...10_080) ?? settings.shipAfterMinutes
        settings.timeLimitMilliseconds = try reader.int("time_limit_ms", in: 1...600_000) ?? settings.timeLimitMilliseconds
        try reader.finish()
        return settings
    }
}

extension Catalogue {
    /// Listed SKUs first, then the generated ones' ids.
    var allSKUIDs: [String] {
        skus.map(\.id) + (0..<(generated?.count ?? 0)).map { generated!.id(index: $0) }
    }
}

extension Catalogue.Generated {
    func id(index: Int) -> String {
        let digits = String(count - 1).count
        let number = String(index + 1)
        return prefix + String(repeating: "0", count: max(0, digits - number.count)) + number
    }
}

extension Timestamp {
    /// Midnight UTC of a `YYYY-MM-DD` date.
    init?(date: String) {
        let parts = date.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]), (1...12).contains(month),
            (1...CivilDate.daysIn(month: month, year: year)).contains(day)
        else { return nil }
        self.init(millisecondsSinceEpoch: CivilDate.daysSinceEpoch(year: year, month: month, day: day) * 86_400_000)
    }
}

/// Gregorian dates without Foundation's calendars (UTC only, deterministic).
enum CivilDate {
    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Howard Hinnant's days_from_civil.
    static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return Int64(era * 146_097 + dayOfEra - 719_468)
    }

    /// `YYYY-MM-DD` of a day since the epoch (civil_from_days).
    static func string(daysSinceEpoch: Int64) -> String {
        let z = Int(daysSinceEpoch) + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
    }

    /// 0 for Monday ... 6 for Sunday (1970-01-01 was a Thursday).
    static func weekday(daysSinceEpoch: Int64) -> Int {
        Int(((daysSinceEpoch % 7) + 7 + 3) % 7)
    }
}
