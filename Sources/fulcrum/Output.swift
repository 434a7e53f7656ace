import Foundation
import FulcrumCore

/// A minimal JSON value for the CLI's `--json` output, rendered with keys in
/// the order given (stable, diffable output).
indirect enum JSON {
    case string(String)
    case integer(Int64)
    case number(Double)
    case bool(Bool)
    case array([JSON])
    case object(KeyValuePairs<String, JSON>)
    case orderedObject([(String, JSON)])

    var rendered: String {
        switch self {
        case .string(let value): return JSON.quote(value)
        case .integer(let value): return String(value)
        case .number(let value): return value.isFinite ? String(value) : "null"
        case .bool(let value): return value ? "true" : "false"
        case .array(let values): return "[" + values.map(\.rendered).joined(separator: ",") + "]"
        case .object(let pairs): return JSON.render(pairs.map { ($0.key, $0.value) })
        case .orderedObject(let pairs): return JSON.render(pairs)
        }
    }

    private static func render(_ pairs: [(String, JSON)]) -> String {
        "{" + pairs.map { quote($0.0) + ":" + $0.1.rendered }.joined(separator: ",") + "}"
    }

    static func quote(_ string: String) -> String {
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

func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

/// Prints a line and flushes, so a parent process reading a pipe sees it at once.
func printFlushed(_ line: String) {
    print(line)
    fflush(nil)
}

/// The bytes of a request file, or of standard input when no path is given.
/// An unreadable file is the spec's error object and a non-zero exit.
func readRequest(_ path: String?) throws -> Data {
    guard let path else { return FileHandle.standardInput.readDataToEndOfFile() }
    guard let data = FileManager.default.contents(atPath: path) else {
        throw fail(FulcrumError(.invalidArgument, "cannot read \(path)", path: path), json: true)
    }
    return data
}
