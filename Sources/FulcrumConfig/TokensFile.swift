import Foundation
import FulcrumCore

/// A tokens file: each token's name, the SHA-256 digest of its secret (never
/// the secret) and its scopes.
///
/// ```yaml
/// version: 1
/// tokens:
///   - name: storefront
///     digest: sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
///     scopes: [read]
/// ```
public enum TokensFile {
    public static func load(path: String) throws(FulcrumError) -> TokenTable {
        guard let data = FileManager.default.contents(atPath: path), let yaml = String(data: data, encoding: .utf8) else {
            throw FulcrumError(.invalidTokens, "cannot read the tokens file (missing, or not UTF-8)", path: path)
        }
        return try decode(yaml: yaml, file: path)
    }

    public static func decode(yaml: String, file: String) throws(FulcrumError) -> TokenTable {
        let document = try Document.parse(yaml: yaml, file: file, code: .invalidTokens)
        let top = try FieldReader(document, path: "", code: .invalidTokens)
        guard try top.requiredInt("version", in: 1...Int.max) == 1 else { throw top.error("version", "only version 1 exists") }
        var names = Set<String>()
        var digests = Set<[UInt8]>()
        let entries = try top.records("tokens") { (token) throws(FulcrumError) -> (digest: [UInt8], grant: Grant) in
            let name = try token.requiredName("name")
            guard names.insert(name).inserted else { throw token.error("name", "'\(name)' names two tokens") }
            let text = try token.requiredString("digest")
            guard let digest = TokenTable.digest(text: text) else {
                throw token.error("digest", "must be sha256: and 64 hex digits (`fulcrum token hash` prints it)")
            }
            guard digests.insert(digest).inserted else { throw token.error("digest", "two tokens share this digest") }
            var scopes = Set<Scope>()
            let listed = try token.list("scopes")
            if listed.isEmpty { throw token.error("scopes", "must list at least one scope") }
            for item in listed {
                guard case .scalar(let word) = item.document.value, let scope = Scope(rawValue: word) else {
                    throw token.error(
                        at: item.document.location, item.path,
                        "must be one of \(Scope.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                scopes.insert(scope)
            }
            return (digest, Grant(name: name, scopes: scopes))
        }
        try top.finish()
        if entries.isEmpty { throw top.error("tokens", "must list at least one token") }
        return TokenTable(entries)
    }
}
