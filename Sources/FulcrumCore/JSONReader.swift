/// A forward-only JSON reader over bytes, for the shapes that are hot
/// (optimize requests): no intermediate tree, no `Codable` machinery, strings
/// made once from their bytes, numbers parsed in place.
///
/// It answers one question fast: is this well-formed JSON of the expected
/// shape, and what are its values? Anything else (a syntax error, a wrong
/// type, a missing field) is `Failure`, carrying nothing: the caller then
/// runs Foundation's decoder on the same bytes, whose typed errors (code,
/// message, field path) are the contract. So errors stay exactly what they
/// were, and speed is paid for only where input is good.
///
/// Grammar: RFC 8259, with what Foundation's `JSONDecoder` also accepts so
/// that both agree on every input: a UTF-8 byte order mark, a trailing comma
/// in an object or array. Strings must be valid UTF-8 without raw control
/// characters; `\u` escapes must pair their surrogates. A number must be
/// finite as a `Double`, and one with a non-zero digit must not round to 0.
public struct JSONReader: ~Copyable {
    /// The input is not what the caller expects; the reason is left to the
    /// slower decoder that reports it.
    public struct Failure: Error {}

    private let bytes: UnsafeRawBufferPointer
    private var index = 0

    public init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { index = 3 }
    }

    // MARK: Structure

    /// Only whitespace is left: the document is complete.
    public mutating func end() throws(Failure) {
        skipWhitespace()
        guard index == bytes.count else { throw Failure() }
    }

    /// Reads `{`.
    public mutating func beginObject() throws(Failure) {
        try expect(UInt8(ascii: "{"))
    }

    /// The next key of the object begun last (after its `:`), or nil at
    /// its `}`. `first` is true before the object's first key.
    public mutating func nextKey(first: Bool) throws(Failure) -> Key? {
        guard try another(before: UInt8(ascii: "}"), first: first) else { return nil }
        let key = try readKey()
        try expect(UInt8(ascii: ":"))
        return key
    }

    /// Reads `[`.
    public mutating func beginArray() throws(Failure) {
        try expect(UInt8(ascii: "["))
    }

    /// Whether another element follows in the array begun last (false: its
    /// `]` was read).
    public mutating func nextElement(first: Bool) throws(Failure) -> Bool {
        try another(before: UInt8(ascii: "]"), first: first)
    }

    /// Whether a member follows in a container that ends with `closing`
    /// (false: `closing` was read); after the first, past its comma. A
    /// trailing comma is allowed, as Foundation allows it.
    private mutating func another(before closing: UInt8, first: Bool) throws(Failure) -> Bool {
        skipWhitespace()
        guard index < bytes.count else { throw Failure() }
        if !first, bytes[index] == UInt8(ascii: ",") {
            index += 1
            skipWhitespace()
            guard index < bytes.count else { throw Failure() }
        } else if !first, bytes[index] != closing {
            throw Failure()
        }
        guard bytes[index] == closing else { return true }
        index += 1
        return false
    }

    /// Reads an object whose keys are `table`'s, handing each field's value
    /// to `field` once: the first of a repeated key wins (as in Foundation);
    /// a key not in the table fails. `depth`: containers around the object.
    public mutating func readObject<Keys>(
        _ table: JSONKeyTable<Keys>, depth: Int, _ field: (inout JSONReader, Keys) throws(Failure) -> Void
    ) throws(Failure) {
        try beginObject()
        var seen: UInt64 = 0
        var first = true
        while let key = try nextKey(first: first) {
            first = false
            guard let (name, bit) = table.lookUp(key) else { throw Failure() }
            if seen & bit != 0 {
                try skipValue(depth: depth + 1)
                continue
            }
            seen |= bit
            try field(&self, name)
        }
    }

    /// Reads an array, each element by `element`.
    public mutating func readArray<Element>(_ element: (inout JSONReader) throws(Failure) -> Element)
        throws(Failure) -> [Element]
    {
        try beginArray()
        var elements: [Element] = []
        var first = true
        while try nextElement(first: first) {
            first = false
            elements.append(try element(&self))
        }
        return elements
    }

    /// Reads `null` if it comes next.
    public mutating func readNull() -> Bool {
        skipWhitespace()
        guard bytes.count - index >= 4, bytes[index] == UInt8(ascii: "n"), bytes[index + 1] == UInt8(ascii: "u"),
            bytes[index + 2] == UInt8(ascii: "l"), bytes[index + 3] == UInt8(ascii: "l")
        else { return false }
        index += 4
        return true
    }

    /// Skips one value of any kind, checking its syntax. `depth`: the
    /// arrays and objects around it (Foundation's limit counts them all).
    public mutating func skipValue(depth: Int) throws(Failure) {
        skipWhitespace()
        guard index < bytes.count else { throw Failure() }
        if bytes[index] == UInt8(ascii: "{") || bytes[index] == UInt8(ascii: "[") {
            guard depth < Limits.jsonDepthMax else { throw Failure() }
        }
        switch bytes[index] {
        case UInt8(ascii: "{"):
            index += 1
            var first = true
            while try nextKey(first: first) != nil {
                first = false
                try skipValue(depth: depth + 1)
            }
        case UInt8(ascii: "["):
            index += 1
            var first = true
            while try nextElement(first: first) {
                first = false
                try skipValue(depth: depth + 1)
            }
        case UInt8(ascii: "\""): _ = try readStringBytes()
        case UInt8(ascii: "t"), UInt8(ascii: "f"): _ = try readBool()
        case UInt8(ascii: "n"): guard readNull() else { throw Failure() }
        default: _ = try readDouble()
        }
    }

    // MARK: Scalars

    public mutating func readBool() throws(Failure) -> Bool {
        skipWhitespace()
        let rest = bytes.count - index
        if rest >= 4, bytes[index] == UInt8(ascii: "t"), bytes[index + 1] == UInt8(ascii: "r"),
            bytes[index + 2] == UInt8(ascii: "u"), bytes[index + 3] == UInt8(ascii: "e")
        {
            index += 4
            return true
        }
        if rest >= 5, bytes[index] == UInt8(ascii: "f"), bytes[index + 1] == UInt8(ascii: "a"),
            bytes[index + 2] == UInt8(ascii: "l"), bytes[index + 3] == UInt8(ascii: "s"),
            bytes[index + 4] == UInt8(ascii: "e")
        {
            index += 5
            return false
        }
        throw Failure()
    }

    public mutating func readString() throws(Failure) -> String {
        let string = try readStringBytes()
        if let unescaped = string.unescaped { return String(decoding: unescaped, as: UTF8.self) }
        return String(decoding: string.raw, as: UTF8.self)
    }

    /// A number as a `Double`, correctly rounded: exact integer arithmetic
    /// where the digits and the power of ten are both exact in a `Double`
    /// (Clinger's fast path), the standard library's parser otherwise.
    public mutating func readDouble() throws(Failure) -> Double {
        skipWhitespace()
        let start = index
        var cursor = index
        let count = bytes.count
        let negative = cursor < count && bytes[cursor] == UInt8(ascii: "-")
        if negative { cursor += 1 }
        var mantissa: UInt64 = 0
        var digits = 0
        var nonZero = false
        // Integer part: 0, or a digit 1-9 and more digits.
        guard cursor < count, isDigit(bytes[cursor]) else { throw Failure() }
        if bytes[cursor] == UInt8(ascii: "0") {
            cursor += 1
            guard cursor >= count || !isDigit(bytes[cursor]) else { throw Failure() }
        } else {
            while cursor < count, isDigit(bytes[cursor]) {
                accumulate(bytes[cursor], &mantissa, &digits, &nonZero)
                cursor += 1
            }
        }
        var exponent = 0
        if cursor < count, bytes[cursor] == UInt8(ascii: ".") {
            cursor += 1
            guard cursor < count, isDigit(bytes[cursor]) else { throw Failure() }
            while cursor < count, isDigit(bytes[cursor]) {
                accumulate(bytes[cursor], &mantissa, &digits, &nonZero)
                exponent -= 1
                cursor += 1
            }
        }
        if cursor < count, bytes[cursor] | 0x20 == UInt8(ascii: "e") {
            cursor += 1
            var exponentNegative = false
            if cursor < count, bytes[cursor] == UInt8(ascii: "+") || bytes[cursor] == UInt8(ascii: "-") {
                exponentNegative = bytes[cursor] == UInt8(ascii: "-")
                cursor += 1
            }
            guard cursor < count, isDigit(bytes[cursor]) else { throw Failure() }
            var written = 0
            while cursor < count, isDigit(bytes[cursor]) {
                written = min(written * 10 + Int(bytes[cursor] &- UInt8(ascii: "0")), 1_000_000)
                cursor += 1
            }
            exponent += exponentNegative ? -written : written
        }
        index = cursor
        if digits <= 19, mantissa <= 1 << 53, abs(exponent) <= 22 {
            // Both exact in a Double: one correctly rounded operation.
            let magnitude = exponent < 0
                ? Double(mantissa) / Self.powersOfTen[-exponent] : Double(mantissa) * Self.powersOfTen[exponent]
            return negative ? -magnitude : magnitude
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<cursor]), as: UTF8.self)
        guard let value = Double(text), value.isFinite, value != 0 || !nonZero else { throw Failure() }
        return value
    }

    // MARK: Keys

    /// A string's bytes (an object's key): in the input, or unescaped
    /// (rare) in an array of its own.
    public struct Key {
        let raw: UnsafeRawBufferPointer
        let unescaped: [UInt8]?

        func matches(_ name: [UInt8]) -> Bool {
            if let unescaped { return unescaped == name }
            return raw.count == name.count && raw.elementsEqual(name)
        }
    }

    private mutating func readKey() throws(Failure) -> Key {
        try readStringBytes()
    }

    /// A string's bytes, checked as UTF-8 without raw control characters:
    /// in place when it has no escapes, else resolved into an array.
    private mutating func readStringBytes() throws(Failure) -> Key {
        skipWhitespace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw Failure() }
        let start = index + 1
        var cursor = start
        while cursor < bytes.count {
            let byte = bytes[cursor]
            if byte == UInt8(ascii: "\"") {
                index = cursor + 1
                let raw = UnsafeRawBufferPointer(rebasing: bytes[start..<cursor])
                guard raw.allSatisfy({ $0 < 0x80 }) || String(validating: raw, as: UTF8.self) != nil else {
                    throw Failure()
                }
                return Key(raw: raw, unescaped: nil)
            }
            if byte == UInt8(ascii: "\\") { break }
            guard byte >= 0x20 else { throw Failure() }
            cursor += 1
        }
        guard cursor < bytes.count else { throw Failure() }
        var unescaped: [UInt8] = []
        index = start
        try readEscaped(into: &unescaped)
        guard String(validating: unescaped, as: UTF8.self) != nil else { throw Failure() }
        return Key(raw: UnsafeRawBufferPointer(start: nil, count: 0), unescaped: unescaped)
    }

    // MARK: Pieces

    /// From just after an opening quote to just after its closing quote,
    /// the string's bytes with escapes resolved.
    private mutating func readEscaped(into out: inout [UInt8]) throws(Failure) {
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""): return
            case UInt8(ascii: "\\"):
                guard index < bytes.count else { throw Failure() }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escape)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try readHex4()
                    if (0xD800..<0xDC00).contains(scalar) {
                        guard bytes.count - index >= 6, bytes[index] == UInt8(ascii: "\\"),
                            bytes[index + 1] == UInt8(ascii: "u")
                        else { throw Failure() }
                        index += 2
                        let low = try readHex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw Failure() }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00..<0xE000).contains(scalar) {
                        throw Failure()
                    }
                    guard let unicode = Unicode.Scalar(scalar) else { throw Failure() }
                    out.append(contentsOf: UTF8.encode(unicode)!)
                default: throw Failure()
                }
            default:
                guard byte >= 0x20 else { throw Failure() }
                out.append(byte)
            }
        }
        throw Failure()
    }

    private mutating func readHex4() throws(Failure) -> UInt32 {
        guard bytes.count - index >= 4 else { throw Failure() }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw Failure()
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    private mutating func expect(_ byte: UInt8) throws(Failure) {
        skipWhitespace()
        guard index < bytes.count, bytes[index] == byte else { throw Failure() }
        index += 1
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    private func isDigit(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 }

    private func accumulate(_ byte: UInt8, _ mantissa: inout UInt64, _ digits: inout Int, _ nonZero: inout Bool) {
        let digit = UInt64(byte &- UInt8(ascii: "0"))
        if digit != 0 { nonZero = true }
        // Leading zeros do not count against the 19 digits a UInt64 holds.
        if digits > 0 || digit != 0 { digits += 1 }
        if digits <= 19 { mantissa = mantissa &* 10 &+ digit }
    }

    private static let powersOfTen: [Double] = (0...22).map { exponent in
        (0..<exponent).reduce(1.0) { value, _ in value * 10 }
    }
}

/// The byte spellings of a coding-key enum's cases, for matching keys the
/// reader hands over without making strings of them.
public struct JSONKeyTable<Keys: CodingKey & CaseIterable>: Sendable where Keys: Sendable {
    private let entries: [(bytes: [UInt8], key: Keys)]

    public init() {
        entries = Keys.allCases.map { (Array($0.stringValue.utf8), $0) }
        precondition(entries.count <= 64, "a key's bit in JSONReader.readObject")
    }

    /// The case whose name is exactly these bytes and its bit, or nil.
    func lookUp(_ key: JSONReader.Key) -> (Keys, UInt64)? {
        for (ordinal, entry) in entries.enumerated() where key.matches(entry.bytes) {
            return (entry.key, 1 << UInt64(ordinal))
        }
        return nil
    }
}
