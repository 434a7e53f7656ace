/// A minimal JSON value, rendered with keys in the order given: stable,
/// diffable output, and far cheaper than Foundation's encoder on hot paths
/// (the CLI's `--json`, the HTTP gateway's answers).
public indirect enum JSON: Sendable {
    case string(String)
    case integer(Int64)
    case number(Double)
    case bool(Bool)
    case array([JSON])
    case object(KeyValuePairs<String, JSON>)
    case orderedObject([(String, JSON)])
    case null
    /// JSON text made elsewhere (a stored document), inserted as it is.
    case text(String)

    public var rendered: String {
        switch self {
        case .string(let value): return JSON.quote(value)
        case .integer(let value): return String(value)
        case .number(let value): return value.isFinite ? String(value) : "null"
        case .bool(let value): return value ? "true" : "false"
        case .array(let values): return "[" + values.map(\.rendered).joined(separator: ",") + "]"
        case .object(let pairs): return JSON.render(pairs.map { ($0.key, $0.value) })
        case .orderedObject(let pairs): return JSON.render(pairs)
        case .null: return "null"
        case .text(let text): return text
        }
    }

    private static func render(_ pairs: [(String, JSON)]) -> String {
        "{" + pairs.map { quote($0.0) + ":" + $0.1.rendered }.joined(separator: ",") + "}"
    }

    public static func quote(_ string: String) -> String {
        var out = "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count) + String(scalar.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

