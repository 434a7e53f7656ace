import Foundation
import FulcrumCore

/// A SKU catalogue file (`fulcrumd serve --catalogue FILE`, `fulcrum skus
/// --set FILE`): YAML, or CSV when the name ends in `.csv`. Every mistake
/// names the file, line (and column for YAML) and field.
///
/// ```yaml
/// version: 1
/// skus:
///   - {id: TEE-BLK-M, weight_kg: 0.3, category: apparel}
///   - {id: LAMP-OIL, weight_kg: 1.1, flags: [hazmat]}
/// ```
///
/// ```csv
/// sku,weight_kg,category,flags
/// TEE-BLK-M,0.3,apparel,
/// LAMP-OIL,1.1,,hazmat|fragile
/// ```
public enum CatalogueFile {
    public static func load(path: String) throws(FulcrumError) -> [SKU] {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw FulcrumError(.invalidCatalogue, "cannot read the catalogue file (missing, or not UTF-8)", path: path)
        }
        return path.lowercased().hasSuffix(".csv") ? try decode(csv: text, file: path) : try decode(yaml: text, file: path)
    }

    public static func decode(yaml: String, file: String) throws(FulcrumError) -> [SKU] {
        let document = try Document.parse(yaml: yaml, file: file, code: .invalidCatalogue)
        let top = try FieldReader(document, path: "", code: .invalidCatalogue)
        guard try top.requiredInt("version", in: 1...Int.max) == 1 else { throw top.error("version", "only version 1 exists") }
        var seen = Set<String>()
        let skus = try top.records("skus") { (entry) throws(FulcrumError) -> SKU in
            let id = try entry.requiredName("id")
            guard seen.insert(id).inserted else { throw entry.error("id", "'\(id)' is listed twice") }
            return SKU(
                id: id, weightKilograms: try entry.double("weight_kg", in: Limits.weightKgMin...Limits.weightKgMax) ?? 1,
                category: try entry.name("category"), flags: try entry.names("flags"))
        }
        try top.finish()
        if skus.isEmpty { throw top.error("skus", "must list at least one SKU") }
        return skus
    }

    /// A header `sku,weight_kg,category,flags` (any order; `category` and
    /// `flags` optional, flags separated by `|`), then one SKU a line. Quoted fields are not read: a quote is an error.
    public static func decode(csv: String, file: String) throws(FulcrumError) -> [SKU] {
        // CRLF is one Character in Swift: split on newlines, not on "\n".
        var lines = csv.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated().map {
            (number: $0.offset + 1, text: String($0.element))
        }.filter { !$0.text.trimmingCharacters(in: .whitespaces).isEmpty }
        guard !lines.isEmpty else { throw FulcrumError(.invalidCatalogue, "the file is empty", path: "\(file):1") }
        let header = lines.removeFirst()
        let names = header.text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard let skuColumn = names.firstIndex(of: "sku"), let weightColumn = names.firstIndex(of: "weight_kg") else {
            throw FulcrumError(
                .invalidCatalogue, "the header names the columns sku and weight_kg (and category, flags)", path: "\(file):\(header.number)")
        }
        let categoryColumn = names.firstIndex(of: "category")
        let flagsColumn = names.firstIndex(of: "flags")
        if let unknown = names.first(where: { !["sku", "weight_kg", "category", "flags"].contains($0) }) {
            throw FulcrumError(.invalidCatalogue, "unknown column '\(unknown)'", path: "\(file):\(header.number)")
        }
        var seen = Set<String>()
        var skus: [SKU] = []
        for line in lines {
            let path = "\(file):\(line.number)"
            guard !line.text.contains("\"") else { throw FulcrumError(.invalidCatalogue, "quoted fields are not read", path: path) }
            let fields = line.text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count == names.count else {
                throw FulcrumError(.invalidCatalogue, "\(fields.count) fields; the header has \(names.count)", path: path)
            }
            let id = fields[skuColumn]
            try Names.validate(id, path: "\(path): sku")
            guard seen.insert(id).inserted else { throw FulcrumError(.invalidCatalogue, "'\(id)' is listed twice", path: "\(path): sku") }
            guard let weight = Double(fields[weightColumn]), (Limits.weightKgMin...Limits.weightKgMax).contains(weight) else {
                throw FulcrumError(
                    .invalidCatalogue, "'\(fields[weightColumn])' is not a weight within \(Limits.weightKgMin)...\(Limits.weightKgMax) kg",
                    path: "\(path): weight_kg")
            }
            let category = categoryColumn.map { fields[$0] }.flatMap { $0.isEmpty ? nil : $0 }
            if let category { try Names.validate(category, path: "\(path): category") }
            let flags = flagsColumn.map { fields[$0] }.map { $0.isEmpty ? [] : $0.split(separator: "|", omittingEmptySubsequences: false).map(String.init) } ?? []
            for flag in flags { try Names.validate(flag, path: "\(path): flags") }
            skus.append(SKU(id: id, weightKilograms: weight, category: category, flags: flags))
        }
        if skus.isEmpty { throw FulcrumError(.invalidCatalogue, "no SKUs below the header", path: "\(file):\(header.number)") }
        return skus
    }
}
