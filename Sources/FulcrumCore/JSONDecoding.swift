import Foundation

/// JSON decoding with Foundation's errors turned into `invalid_json` at the
/// field's path (`orders[2].lines[0].quantity`): for every JSON input (requests,
/// the HTTP gateway's bodies).
///
/// `snakeCase`: the JSON's `snake_case` keys decode into camelCase properties
/// (and paths name the JSON's keys).
public func decodeJSON<T: Decodable>(
    _ type: T.Type, from json: Data, userInfo: [CodingUserInfoKey: any Sendable] = [:], snakeCase: Bool = false
) throws(FulcrumError) -> T {
    do {
        let decoder = JSONDecoder()
        decoder.userInfo = userInfo
        if snakeCase { decoder.keyDecodingStrategy = .convertFromSnakeCase }
        return try decoder.decode(type, from: json)
    } catch let error as DecodingError {
        throw FulcrumError(decoding: error)
    } catch let error as FulcrumError {
        throw error
    } catch {
        throw FulcrumError(.invalidJSON, "\(error)")
    }
}

extension FulcrumError {
    /// A coding path as a field path (`orders[0].lines[1].quantity`), in
    /// snake_case whatever key strategy the decoder used.
    public static func fieldPath(_ keys: [any CodingKey]) -> String {
        keys.reduce("") { path, key in
            if let index = key.intValue { return path + "[\(index)]" }
            let name = snakeCased(key.stringValue)
            return path.isEmpty ? name : path + "." + name
        }
    }

    init(decoding error: DecodingError) {
        let path = Self.fieldPath
        switch error {
        case .typeMismatch(let type, let context):
            self.init(.invalidJSON, "expected \(Self.jsonName(of: type))", path: path(context.codingPath))
        case .valueNotFound(let type, let context):
            self.init(.invalidJSON, "expected \(Self.jsonName(of: type)), found null", path: path(context.codingPath))
        case .keyNotFound(let key, let context):
            self.init(.invalidJSON, "required field is missing", path: path(context.codingPath + [key]))
        case .dataCorrupted(let context):
            let detail = context.underlyingError.map { "\($0)" } ?? context.debugDescription
            let message = context.codingPath.isEmpty ? "not valid JSON: \(detail)" : context.debugDescription
            self.init(.invalidJSON, message, path: path(context.codingPath))
        @unknown default:
            self.init(.invalidJSON, "\(error)")
        }
    }

    static func snakeCased(_ camel: String) -> String {
        var snake = ""
        for character in camel {
            if character.isUppercase { snake += "_" + character.lowercased() } else { snake.append(character) }
        }
        return snake
    }

    private static func jsonName(of type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type: "an integer"
        case is Double.Type: "a number"
        case is Bool.Type: "true or false"
        default: "\(type)"
        }
    }
}

extension KeyedDecodingContainer {
    /// A 64-bit integer field. A number that is not one (`1.5`, `1e400`,
    /// `9223372036854775808`) is `invalid_argument` at this field's path;
    /// Foundation would call it invalid JSON and lose the path.
    public func decodeInteger(forKey key: Key) throws -> Int64 {
        do {
            return try decode(Int64.self, forKey: key)
        } catch {
            // Not a number at all: the decoder's own error, with its path.
            switch error as? DecodingError {
            case .typeMismatch?, .valueNotFound?, .keyNotFound?: throw error
            default: break  // Foundation's internal "not representable", which it would report pathless
            }
            let number = try? decode(Double.self, forKey: key)
            let why = number.map { $0.isFinite && $0.rounded() != $0 } == true
                ? "must be a whole number" : "is outside the 64-bit integer range"
            throw FulcrumError(.invalidArgument, why, path: FulcrumError.fieldPath(codingPath + [key]))
        }
    }

    /// `decodeInteger` for an optional field (absent or null: nil).
    public func decodeIntegerIfPresent(forKey key: Key) throws -> Int64? {
        try contains(key) && !decodeNil(forKey: key) ? decodeInteger(forKey: key) : nil
    }
}
