import FulcrumCore
import FulcrumLedger

extension RecordBatch {
    /// Adds insight counters to the minute holding `atMs`: they commit with
    /// the change they count, so each is counted exactly once.
    public mutating func add(insights additions: [InsightAddition], atMs: Int64) {
        let bucket = InsightLevel.minute.bucket(atMs)
        for addition in additions {
            add(InsightKeys.counter(.minute, bucket, addition.dimension, addition.metric), addition.amount)
        }
    }
}
