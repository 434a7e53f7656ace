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

extension RecordBatch {
    /// Puts a message in its provider's outbox that belongs to no order (an
    /// alert): delivered like an order's, and acknowledging it raises no event.
    public mutating func put(outbox message: OutboxMessage) {
        precondition(message.order.isEmpty, "an order's messages are sent by its journey's steps")
        put(RecordKeys.outbox(message.provider, message.id), RecordCoding.encode(message))
    }
}
