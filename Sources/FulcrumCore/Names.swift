import Foundation

/// Validation of the identifiers clients send: node, SKU, order and receipt ids.
///
/// One identity per name: two names are the same name when Unicode calls
/// them canonically equivalent ("é" precomposed or as "e" + U+0301), which is
/// what Swift's `String ==` and every dictionary in Fulcrum already say.
/// Stored keys are the name's bytes in NFC (`keyBytes`), so byte-wise
/// comparisons in LMDB agree with them.
public enum Names {
    /// The name in Unicode Normalization Form C. ASCII, the common case, is
    /// already NFC and returned as it is without a look at Foundation.
    @inlinable
    public static func canonical(_ name: String) -> String {
        if name.utf8.allSatisfy({ $0 < 0x80 }) { return name }
        return name.precomposedStringWithCanonicalMapping
    }

    /// The bytes a name is stored and looked up by: its NFC UTF-8.
    @inlinable
    public static func keyBytes(_ name: String) -> [UInt8] {
        Array(canonical(name).utf8)
    }

    /// Checks that `name` is a usable identifier: 1 to `Limits.nameBytesMax`
    /// UTF-8 bytes, no control characters. Throws `invalid_argument` at `path`.
    public static func validate(_ name: String, path: String) throws(FulcrumError) {
        try validateText(name, path: path, bytesMax: Limits.nameBytesMax, allowEmpty: false)
    }

    /// Checks free text (a reason, an idempotency key) against a byte bound.
    public static func validateText(
        _ text: String, path: String, bytesMax: Int, allowEmpty: Bool
    ) throws(FulcrumError) {
        let count = text.utf8.count
        if count == 0 && !allowEmpty {
            throw FulcrumError(.invalidArgument, "must not be empty", path: path)
        }
        if count > bytesMax {
            throw FulcrumError(.invalidArgument, "is \(count) bytes; the limit is \(bytesMax)", path: path)
        }
        // Most ids are ASCII: check bytes first, Unicode properties only when needed.
        let isASCII = text.utf8.allSatisfy { $0 < 0x80 }
        let hasControl = isASCII
            ? text.utf8.contains { $0 < 0x20 || $0 == 0x7F }
            : text.unicodeScalars.contains { $0.properties.generalCategory == .control }
        if hasControl {
            throw FulcrumError(.invalidArgument, "must not contain control characters", path: path)
        }
    }

    /// Checks that `quantity` is within 1...`Limits.quantityMax` (or 0... when zero is allowed).
    public static func validateQuantity(_ quantity: Int64, path: String, allowZero: Bool = false) throws(FulcrumError) {
        let lower: Int64 = allowZero ? 0 : 1
        guard quantity >= lower, quantity <= Limits.quantityMax else {
            throw FulcrumError(
                .invalidArgument, "quantity \(quantity) is outside \(lower)...\(Limits.quantityMax)", path: path)
        }
    }
}
