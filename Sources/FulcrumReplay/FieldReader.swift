import FulcrumCore

/// Reads one mapping of a scenario file field by field. Every error names
/// the file, line and column, and the field's path (`network.nodes[2].lat`);
/// a key the format does not define is an error, so a typo is never ignored.
final class FieldReader {
    let document: Document
    let path: String
    private let entries: [(key: String, keyLocation: SourceLocation, value: Document)]
    private var read = Set<String>()

    init(_ document: Document, path: String) throws(FulcrumError) {
        guard case .mapping(let entries) = document.value else {
            throw Self.error(document.location, path, "must be a mapping (key: value lines)")
        }
        self.document = document
        self.path = path
        self.entries = entries
    }

    static func error(_ location: SourceLocation, _ path: String, _ message: String) -> FulcrumError {
        FulcrumError(.invalidScenario, message, path: path.isEmpty ? "\(location)" : "\(location): \(path)")
    }

    func fieldPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func has(_ key: String) -> Bool { entries.contains { $0.key == key } }

    /// The value of `key`, marked as read.
    func value(_ key: String) -> Document? {
        read.insert(key)
        return entries.first { $0.key == key }?.value
    }

    /// An error at `key`'s value (or at this mapping when the key is absent).
    func error(_ key: String, _ message: String) -> FulcrumError {
        Self.error(entries.first { $0.key == key }?.value.location ?? document.location, fieldPath(key), message)
    }

    /// Throws for the first key no reader asked for.
    func finish() throws(FulcrumError) {
        for entry in entries where !read.contains(entry.key) {
            throw Self.error(entry.keyLocation, fieldPath(entry.key), "unknown field")
        }
    }

    // MARK: Scalars

    func string(_ key: String) throws(FulcrumError) -> String? {
        guard let document = value(key) else { return nil }
        guard case .scalar(let text) = document.value else { throw error(key, "must be a single value") }
        return text
    }

    func requiredString(_ key: String) throws(FulcrumError) -> String {
        guard let text = try string(key) else { throw error(key, "is required") }
        return text
    }

    /// An identifier (node, SKU, order): checked like the ledger checks names.
    func name(_ key: String) throws(FulcrumError) -> String? {
        guard let text = try string(key) else { return nil }
        do {
            try Names.validate(text, path: fieldPath(key))
        } catch {
            throw self.error(key, error.message)
        }
        return text
    }

    func requiredName(_ key: String) throws(FulcrumError) -> String {
        guard let text = try name(key) else { throw error(key, "is required") }
        return text
    }

    func double(_ key: String, in range: ClosedRange<Double> = -Double.greatestFiniteMagnitude...Double.greatestFiniteMagnitude)
        throws(FulcrumError) -> Double?
    {
        guard let text = try string(key) else { return nil }
        guard let number = Double(text), number.isFinite else { throw error(key, "'\(text)' is not a number") }
        guard range.contains(number) else { throw error(key, "\(text) is outside \(range.lowerBound)...\(range.upperBound)") }
        return number
    }

    func requiredDouble(_ key: String, in range: ClosedRange<Double>) throws(FulcrumError) -> Double {
        guard let number = try double(key, in: range) else { throw error(key, "is required") }
        return number
    }

    func int(_ key: String, in range: ClosedRange<Int> = Int.min...Int.max) throws(FulcrumError) -> Int? {
        guard let text = try string(key) else { return nil }
        guard let number = Int(text) else { throw error(key, "'\(text)' is not a whole number") }
        guard range.contains(number) else { throw error(key, "\(text) is outside \(range.lowerBound)...\(range.upperBound)") }
        return number
    }

    func requiredInt(_ key: String, in range: ClosedRange<Int>) throws(FulcrumError) -> Int {
        guard let number = try int(key, in: range) else { throw error(key, "is required") }
        return number
    }

    func bool(_ key: String) throws(FulcrumError) -> Bool? {
        guard let text = try string(key) else { return nil }
        switch text {
        case "true": return true
        case "false": return false
        default: throw error(key, "'\(text)' is not true or false")
        }
    }

    func choice<Choice: RawRepresentable>(_ key: String, _ type: Choice.Type) throws(FulcrumError) -> Choice?
    where Choice.RawValue == String {
        guard let text = try string(key) else { return nil }
        guard let choice = Choice(rawValue: text) else { throw error(key, "'\(text)' is not one of the allowed values") }
        return choice
    }

    // MARK: Structure

    func mapping(_ key: String) throws(FulcrumError) -> FieldReader? {
        guard let document = value(key) else { return nil }
        return try FieldReader(document, path: fieldPath(key))
    }

    /// A list's items with their paths (`key[0]`, ...).
    func list(_ key: String) throws(FulcrumError) -> [(document: Document, path: String)] {
        guard let document = value(key) else { return [] }
        guard case .sequence(let items) = document.value else { throw error(key, "must be a list") }
        return items.enumerated().map { ($0.element, "\(fieldPath(key))[\($0.offset)]") }
    }

    /// A list of mappings, each read by `body` and checked for unknown keys.
    func records<Record>(_ key: String, _ body: (FieldReader) throws(FulcrumError) -> Record) throws(FulcrumError)
        -> [Record]
    {
        var records: [Record] = []
        for item in try list(key) {
            let reader = try FieldReader(item.document, path: item.path)
            records.append(try body(reader))
            try reader.finish()
        }
        return records
    }

    /// A list of numbers, such as a shape of weights.
    func doubles(_ key: String, count: Int? = nil, in range: ClosedRange<Double>) throws(FulcrumError) -> [Double]? {
        guard has(key) else {
            read.insert(key)
            return nil
        }
        var numbers: [Double] = []
        for item in try list(key) {
            guard case .scalar(let text) = item.document.value, let number = Double(text), number.isFinite else {
                throw Self.error(item.document.location, item.path, "must be a number")
            }
            guard range.contains(number) else {
                throw Self.error(item.document.location, item.path, "\(text) is outside \(range.lowerBound)...\(range.upperBound)")
            }
            numbers.append(number)
        }
        if let count, numbers.count != count { throw error(key, "must list \(count) numbers, not \(numbers.count)") }
        if numbers.isEmpty { throw error(key, "must not be empty") }
        return numbers
    }
}
