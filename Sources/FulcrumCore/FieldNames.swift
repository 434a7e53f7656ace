/// Unknown fields in Fulcrum's own inputs (JSON bodies, YAML files) are
/// typed errors, never ignored: a misspelt `ship_complete` that did nothing
/// would source orders wrongly without a word. The message names the field
/// most likely meant: the same letters without separators, a near spelling,
/// or the field an abbreviation stands for (the first optimize contract's
/// short names for quantity and coordinates are abbreviations of today's).
public enum FieldNames {
    /// "unknown field 'x' (did you mean 'y'?)", or without the hint when nothing is near.
    public static func unknownFieldMessage(_ name: String, known: some Sequence<String>) -> String {
        guard let meant = suggestion(for: name, known: Array(known)) else { return "unknown field '\(name)'" }
        return "unknown field '\(name)' (did you mean '\(meant)'?)"
    }

    /// The known field `name` most likely meant, or nil.
    static func suggestion(for name: String, known: [String]) -> String? {
        let bare = squeezed(name)
        guard !bare.isEmpty else { return nil }
        if let same = known.first(where: { squeezed($0) == bare }) { return same }
        let near = known.map { ($0, editDistance(bare, squeezed($0))) }.filter { $0.1 <= min(2, bare.count / 3) }
        if let nearest = near.min(by: { ($0.1, $0.0) < ($1.1, $1.0) }) { return nearest.0 }
        // An abbreviation: the same first letter, then its letters in order.
        let expansions = known.filter { isAbbreviation(bare, of: squeezed($0)) }
        return expansions.min { ($0.count, $0) < ($1.count, $1) }
    }

    private static func isAbbreviation(_ short: [Character], of long: [Character]) -> Bool {
        guard short.count >= 2, short.count < long.count, short.first == long.first else { return false }
        var rest = long[...]
        for character in short {
            guard let found = rest.firstIndex(of: character) else { return false }
            rest = rest[rest.index(after: found)...]
        }
        return true
    }

    private static func squeezed(_ name: String) -> [Character] {
        name.lowercased().filter { $0 != "_" && $0 != "-" }.map { $0 }
    }

    /// Levenshtein distance (field names are short: the quadratic table is tiny).
    private static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1] + Array(repeating: 0, count: b.count)
            for (j, y) in b.enumerated() {
                current[j + 1] = Swift.min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}

/// A coding key for reading every key an object has.
struct AnyCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

extension Decoder {
    /// Throws `unknown_field` at the first key of this object that is not
    /// one of `keys`. Call it first in a strict type's `init(from:)`.
    public func refuseUnknownFields<Keys: CodingKey & CaseIterable>(_ keys: Keys.Type) throws {
        try refuseUnknownFields(known: Keys.allCases.map(\.stringValue))
    }

    /// `refuseUnknownFields(_:)` for an object whose keys are named here.
    public func refuseUnknownFields(known: [String]) throws {
        let container = try self.container(keyedBy: AnyCodingKey.self)
        for key in container.allKeys where !known.contains(key.stringValue) {
            // A snake_case key strategy hands keys over in camelCase: report them as sent.
            throw FulcrumError(
                .unknownField,
                FieldNames.unknownFieldMessage(
                    FulcrumError.snakeCased(key.stringValue), known: known.map(FulcrumError.snakeCased)),
                path: FulcrumError.fieldPath(codingPath + [key]))
        }
    }
}
