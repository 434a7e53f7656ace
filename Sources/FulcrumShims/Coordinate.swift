import FulcrumCore

/// A latitude or longitude as shops send it: a JSON number, or a decimal
/// number in a string (Shopify's REST payloads and the order fixtures of its
/// API libraries write `"latitude": "45.41634"`). Anything else — text that is
/// not a finite number — is `invalid_json` at the field, never dropped.
struct Coordinate: Decodable, Sendable {
    let degrees: Double

    init(degrees: Double) {
        self.degrees = degrees
    }

    /// A CSV field's text; `path` names the field in errors.
    init(text: String, path: String) throws(FulcrumError) {
        guard let degrees = Self.parse(text) else {
            throw FulcrumError(.invalidArgument, "'\(text)' is not a number of degrees", path: path)
        }
        self.degrees = degrees
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Double.self) {
            degrees = number
            return
        }
        guard let text = try? container.decode(String.self) else {
            throw DecodingError.typeMismatch(
                Double.self, .init(codingPath: decoder.codingPath, debugDescription: "expected a number or a string"))
        }
        guard let degrees = Self.parse(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "'\(text)' is not a number of degrees")
        }
        self.degrees = degrees
    }

    private static func parse(_ text: String) -> Double? {
        // Decimal notation only: Double(String) would also take "nan", "inf" and hex floats.
        let allowed = text.utf8.allSatisfy { byte in
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-")
                || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E")
        }
        guard allowed, let value = Double(text), value.isFinite else { return nil }
        return value
    }
}
