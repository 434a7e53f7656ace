import FulcrumCore
import Yams

/// Where a value of a configuration file is: the file, and its 1-based line and column.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int
    public var description: String { "\(file):\(line):\(column)" }
}

/// A YAML document as plain values, each knowing where it was written: what
/// `extends:` merges, and what the decoders of configuration files (scenarios,
/// journeys) read with errors that name the file, line and field.
public struct Document: Sendable {
    public indirect enum Value: Sendable {
        case scalar(String)
        /// Keys in file order, each with where the key was written.
        case mapping([(key: String, keyLocation: SourceLocation, value: Document)])
        case sequence([Document])
    }

    public var value: Value
    public var location: SourceLocation

    public init(value: Value, location: SourceLocation) {
        self.value = value
        self.location = location
    }

    /// Parses YAML text. Anchors and aliases are resolved by the parser;
    /// duplicate keys are an error. Errors carry `code` (the file kind's, e.g. `invalid_scenario`).
    public static func parse(yaml: String, file: String, code: FulcrumError.Code) throws(FulcrumError) -> Document {
        let node: Yams.Node?
        do {
            node = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw Self.error(error, file: file, code: code)
        } catch {
            throw FulcrumError(code, "not YAML: \(error)", path: "\(file):1:1")
        }
        guard let node else {
            throw FulcrumError(code, "the file is empty", path: "\(file):1:1")
        }
        return try Document(node, file: file, code: code)
    }

    private init(_ node: Yams.Node, file: String, code: FulcrumError.Code) throws(FulcrumError) {
        let location = SourceLocation(file: file, line: node.mark?.line ?? 1, column: node.mark?.column ?? 1)
        self.location = location
        switch node {
        case .scalar(let scalar):
            value = .scalar(scalar.string)
        case .sequence(let sequence):
            var items: [Document] = []
            for item in sequence { items.append(try Document(item, file: file, code: code)) }
            value = .sequence(items)
        case .mapping(let mapping):
            var entries: [(key: String, keyLocation: SourceLocation, value: Document)] = []
            var seen = Set<String>()
            for (key, item) in mapping {
                let keyLocation = SourceLocation(file: file, line: key.mark?.line ?? location.line, column: key.mark?.column ?? 1)
                guard case .scalar(let scalar) = key else {
                    throw FulcrumError(code, "keys must be plain names", path: "\(keyLocation)")
                }
                guard seen.insert(scalar.string).inserted else {
                    throw FulcrumError(code, "'\(scalar.string)' is given twice", path: "\(keyLocation)")
                }
                entries.append((scalar.string, keyLocation, try Document(item, file: file, code: code)))
            }
            value = .mapping(entries)
        case .alias:
            throw FulcrumError(code, "unresolved alias", path: "\(location)")
        }
    }

    private static func error(_ error: YamlError, file: String, code: FulcrumError.Code) -> FulcrumError {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
            .composer(_, let problem, let mark, _):
            return FulcrumError(code, "not valid YAML: \(problem)", path: "\(file):\(mark.line):\(mark.column)")
        default:
            return FulcrumError(code, "not valid YAML: \(error)", path: "\(file):1:1")
        }
    }
}

// MARK: - Merging (`extends:`)

extension Document {
    /// This document laid over `base`: mappings merge key by key; a list whose
    /// items all have an `id` merges item by item (an item with `remove: true`
    /// drops the base's item); any other value replaces the base's.
    public func merged(over base: Document) -> Document {
        switch (base.value, value) {
        case (.mapping(let baseEntries), .mapping(let entries)):
            var result = baseEntries
            for entry in entries {
                if let index = result.firstIndex(where: { $0.key == entry.key }) {
                    result[index].value = entry.value.merged(over: result[index].value)
                } else {
                    result.append(entry)
                }
            }
            return Document(value: .mapping(result), location: location)
        case (.sequence(let baseItems), .sequence(let items)):
            guard let baseIDs = Self.ids(baseItems), let ids = Self.ids(items) else { return self }
            var result = baseItems
            var resultIDs = baseIDs
            for (item, id) in zip(items, ids) {
                let index = resultIDs.firstIndex(of: id)
                if item.isRemoval {
                    if let index {
                        result.remove(at: index)
                        resultIDs.remove(at: index)
                    }
                } else if let index {
                    result[index] = item.merged(over: result[index])
                } else {
                    result.append(item)
                    resultIDs.append(id)
                }
            }
            return Document(value: .sequence(result), location: location)
        default:
            return self
        }
    }

    /// Each item's `id`, or nil when an item is not a mapping with a scalar `id`.
    private static func ids(_ items: [Document]) -> [String]? {
        var ids: [String] = []
        for item in items {
            guard case .scalar(let id)? = item.entry("id")?.value else { return nil }
            ids.append(id)
        }
        return ids
    }

    private var isRemoval: Bool {
        if case .scalar(let flag)? = entry("remove")?.value { return flag == "true" }
        return false
    }

    public func entry(_ key: String) -> Document? {
        guard case .mapping(let entries) = value else { return nil }
        return entries.first { $0.key == key }?.value
    }

    /// The document without `key` (a mapping's).
    public func removing(_ key: String) -> Document {
        guard case .mapping(let entries) = value else { return self }
        return Document(value: .mapping(entries.filter { $0.key != key }), location: location)
    }
}
