import FulcrumCore

/// Reads one mapping of a configuration file field by field. Every error
/// names the file, line and column, and the field's path (`network.nodes[2].latitude`);
/// a key the format does not define is an error, so a typo is never ignored.
public final class FieldReader {
    public let document: Document
    public let path: String
    /// The code of every error (the file kind's: `invalid_scenario`, `invalid_journey`).
    public let code: FulcrumError.Code
    private let entries: [(key: String, keyLocation: SourceLocation, value: Document)]
    private var read = Set<String>()

    public init(_ document: Document, path: String, code: FulcrumError.Code) throws(FulcrumError) {
        guard case .mapping(let entries) = document.value else {
            throw Self.error(code, document.location, path, "must be a mapping (key: value lines)")
        }
        self.document = document
        self.path = path
        self.code = code
        self.entries = entries
    }

    public static func error(_ code: FulcrumError.Code, _ location: SourceLocation, _ path: String, _ message: String)
        -> FulcrumError
    {
        FulcrumError(code, message, path: path.isEmpty ? "\(location)" : "\(location): \(path)")
    }

    /// An error at `location` with this reader's code.
    public func error(at location: SourceLocation, _ path: String, _ message: String) -> FulcrumError {
        Self.error(code, location, path, message)
    }

    public func fieldPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    public func has(_ key: String) -> Bool { entries.contains { $0.key == key } }

    /// The value of `key`, marked as read.
    public func value(_ key: String) -> Document? {
        read.insert(key)
        return entries.first { $0.key == key }?.value
    }

    /// An error at `key`'s value (or at this mapping when the key is absent).
    public func error(_ key: String, _ message: String) -> FulcrumError {
        error(at: entries.first { $0.key == key }?.value.location ?? document.location, fieldPath(key), message)
    }

    /// Throws for the first key no reader asked for.
    public func finish() throws(FulcrumError) {
        for entry in entries where !read.contains(entry.key) {
            throw error(
                at: entry.keyLocation, fieldPath(entry.key), FieldNames.unknownFieldMessage(entry.key, known: read.sorted()))
        }
    }

    // MARK: Scalars

    public func string(_ key: String) throws(FulcrumError) -> String? {
        guard let document = value(key) else { return nil }
        guard case .scalar(let text) = document.value else { throw error(key, "must be a single value") }
        return text
    }

    public func requiredString(_ key: String) throws(FulcrumError) -> String {
        guard let text = try string(key) else { throw error(key, "is required") }
        return text
    }

    /// An identifier (node, SKU, order): checked like the ledger checks names.
    public func name(_ key: String) throws(FulcrumError) -> String? {
        guard let text = try string(key) else { return nil }
        do {
            try Names.validate(text, path: fieldPath(key))
        } catch {
            throw self.error(key, error.message)
        }
        return text
    }

    public func requiredName(_ key: String) throws(FulcrumError) -> String {
        guard let text = try name(key) else { throw error(key, "is required") }
        return text
    }

    public func double(_ key: String, in range: ClosedRange<Double> = -Double.greatestFiniteMagnitude...Double.greatestFiniteMagnitude)
        throws(FulcrumError) -> Double?
    {
        guard let text = try string(key) else { return nil }
        guard let number = Double(text), number.isFinite else { throw error(key, "'\(text)' is not a number") }
        guard range.contains(number) else { throw error(key, "\(text) is outside \(range.lowerBound)...\(range.upperBound)") }
        return number
    }

    public func requiredDouble(_ key: String, in range: ClosedRange<Double>) throws(FulcrumError) -> Double {
        guard let number = try double(key, in: range) else { throw error(key, "is required") }
        return number
    }

    public func int(_ key: String, in range: ClosedRange<Int> = Int.min...Int.max) throws(FulcrumError) -> Int? {
        guard let text = try string(key) else { return nil }
        guard let number = Int(text) else { throw error(key, "'\(text)' is not a whole number") }
        guard range.contains(number) else { throw error(key, "\(text) is outside \(range.lowerBound)...\(range.upperBound)") }
        return number
    }

    public func requiredInt(_ key: String, in range: ClosedRange<Int>) throws(FulcrumError) -> Int {
        guard let number = try int(key, in: range) else { throw error(key, "is required") }
        return number
    }

    public func bool(_ key: String) throws(FulcrumError) -> Bool? {
        guard let text = try string(key) else { return nil }
        switch text {
        case "true": return true
        case "false": return false
        default: throw error(key, "'\(text)' is not true or false")
        }
    }

    public func choice<Choice: RawRepresentable>(_ key: String, _ type: Choice.Type) throws(FulcrumError) -> Choice?
    where Choice.RawValue == String {
        guard let text = try string(key) else { return nil }
        guard let choice = Choice(rawValue: text) else { throw error(key, "'\(text)' is not one of the allowed values") }
        return choice
    }

    // MARK: Structure

    public func mapping(_ key: String) throws(FulcrumError) -> FieldReader? {
        guard let document = value(key) else { return nil }
        return try FieldReader(document, path: fieldPath(key), code: code)
    }

    /// A list's items with their paths (`key[0]`, ...).
    public func list(_ key: String) throws(FulcrumError) -> [(document: Document, path: String)] {
        guard let document = value(key) else { return [] }
        guard case .sequence(let items) = document.value else { throw error(key, "must be a list") }
        return items.enumerated().map { ($0.element, "\(fieldPath(key))[\($0.offset)]") }
    }

    /// A list of mappings, each read by `body` and checked for unknown keys.
    public func records<Record>(_ key: String, _ body: (FieldReader) throws(FulcrumError) -> Record) throws(FulcrumError)
        -> [Record]
    {
        var records: [Record] = []
        for item in try list(key) {
            let reader = try FieldReader(item.document, path: item.path, code: code)
            records.append(try body(reader))
            try reader.finish()
        }
        return records
    }

    /// A list of identifiers (a SKU's flags), each checked like `name`; absent: empty.
    public func names(_ key: String) throws(FulcrumError) -> [String] {
        guard has(key) else {
            read.insert(key)
            return []
        }
        var names: [String] = []
        for item in try list(key) {
            guard case .scalar(let text) = item.document.value else {
                throw error(at: item.document.location, item.path, "must be a single value")
            }
            do throws(FulcrumError) {
                try Names.validate(text, path: item.path)
            } catch {
                throw self.error(at: item.document.location, item.path, error.message)
            }
            names.append(text)
        }
        return names
    }

    /// A list of numbers, such as a shape of weights.
    public func doubles(_ key: String, count: Int? = nil, in range: ClosedRange<Double>) throws(FulcrumError) -> [Double]? {
        guard has(key) else {
            read.insert(key)
            return nil
        }
        var numbers: [Double] = []
        for item in try list(key) {
            guard case .scalar(let text) = item.document.value, let number = Double(text), number.isFinite else {
                throw error(at: item.document.location, item.path, "must be a number")
            }
            guard range.contains(number) else {
                throw error(at: item.document.location, item.path, "\(text) is outside \(range.lowerBound)...\(range.upperBound)")
            }
            numbers.append(number)
        }
        if let count, numbers.count != count { throw error(key, "must list \(count) numbers, not \(numbers.count)") }
        if numbers.isEmpty { throw error(key, "must not be empty") }
        return numbers
    }
}
