import FulcrumCore
import FulcrumStorage

/// The `records` database of a ledger directory, read in one read-only
/// snapshot (the server may be running): what `fulcrum records` lists.
public enum RecordScan {
    /// Records whose key starts with `prefix`, in key order, at most `limit`;
    /// each value without its checksum, which is verified on the way.
    public static func records(directory: String, prefix: [UInt8], limit: Int) throws(FulcrumError)
        -> [(key: [UInt8], value: [UInt8])]
    {
        precondition(limit >= 0)
        let (environment, schema, _) = try LedgerFiles.open(directory: directory, mode: .readOnly)
        guard let database = schema.records else { return [] }
        do {
            let transaction = try ReadTransaction(environment)
            let cursor = try transaction.cursor(database)
            var listed: [(key: [UInt8], value: [UInt8])] = []
            var record = try cursor.seek(atLeast: prefix)
            while let found = record, found.key.starts(with: prefix), listed.count < limit {
                listed.append(found)
                record = try cursor.next()
            }
            return listed
        } catch let error as LMDBError where error.code == LMDBError.checksumMismatch.code {
            throw FulcrumError(
                .corrupt, "the stored record \(ChecksumScan.path(error.database ?? "records", error.key ?? [])) fails its checksum",
                path: "records")
        } catch {
            throw FulcrumError(.storage, "\(error)")
        }
    }
}
