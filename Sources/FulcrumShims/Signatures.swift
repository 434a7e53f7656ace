import Foundation
import FulcrumCore
import FulcrumHTTP

/// HMAC-SHA256 signatures of webhook bodies: Shopify's (base64, header
/// `X-Shopify-Hmac-Sha256`) and Fulcrum's own (hex, `X-Fulcrum-Hmac-Sha256`).
public enum WebhookSignature {
    public static func hmac(_ body: some DataProtocol, secret: String) -> [UInt8] {
        SHA256.hmac(key: Array(secret.utf8), message: body)
    }

    public static func base64(_ body: some DataProtocol, secret: String) -> String {
        Data(hmac(body, secret: secret)).base64EncodedString()
    }

    public static func hex(_ body: some DataProtocol, secret: String) -> String {
        hmac(body, secret: secret).map { String(format: "%02x", $0) }.joined()
    }

    /// Throws `bad_signature` unless `header` is the body's signature, compared in constant time.
    public static func verify(
        _ header: String?, body: some DataProtocol, secret: String, encoding: Encoding, headerName: String
    ) throws(FulcrumError) {
        guard let header, !header.isEmpty else {
            throw FulcrumError(.badSignature, "the request has no \(headerName) header", path: headerName)
        }
        let expected = encoding == .base64 ? base64(body, secret: secret) : hex(body, secret: secret)
        guard HTTPErrors.constantTimeEquals(header.utf8, expected.utf8) else {
            throw FulcrumError(.badSignature, "the signature does not match the body", path: headerName)
        }
    }

    public enum Encoding: Sendable { case base64, hex }
}
