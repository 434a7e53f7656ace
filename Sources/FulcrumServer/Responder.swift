import FulcrumCore
import FulcrumWire
import NIOCore
import SwiftProtobuf
import Synchronization

/// Answers one request, from any thread: the answer is built and written on
/// the connection's event loop.
struct Responder: Sendable {
    let connection: NIOLoopBound<ConnectionHandler>
    /// The answers of the connection's event loop that come from other threads.
    let answers: AnswerQueue
    let requestID: UInt32
    let opcode: Opcode
    /// When the request arrived (uptime), for its latency.
    let arrivedNanoseconds: UInt64

    /// Runs `body` on the event loop and answers with its payload or its error.
    func complete(_ body: @escaping @Sendable () throws(FulcrumError) -> ByteBuffer) {
        let answer = AnswerQueue.Answer(
            connection: connection, requestID: requestID, opcode: opcode, arrivedNanoseconds: arrivedNanoseconds, body: body)
        if connection.eventLoop.inEventLoop {
            answer.finish()
        } else {
            answers.enqueue(answer)
        }
    }

    func succeed(_ message: some SwiftProtobuf.Message & Sendable) {
        complete { message.payload() }
    }

    func fail(_ error: FulcrumError) {
        complete { () throws(FulcrumError) in throw error }
    }
}

/// One event loop's answers completed on other threads (the ledger's writer
/// completes a whole group at once). They wait here for one task on the loop
/// that writes them all and flushes each connection once, instead of a task
/// and a flush per answer: pipelined requests answered by one group cost one
/// write system call.
///
/// Bounded without a limit of its own: each answer is a request in flight,
/// at most `requestsInFlightMax` per connection and `connectionsMax` connections.
final class AnswerQueue: Sendable {
    /// A completed request: its answer is built on the event loop.
    struct Answer: Sendable {
        let connection: NIOLoopBound<ConnectionHandler>
        let requestID: UInt32
        let opcode: Opcode
        let arrivedNanoseconds: UInt64
        let body: @Sendable () throws(FulcrumError) -> ByteBuffer

        /// Builds and writes the answer; on the connection's event loop.
        func finish() {
            connection.value.finish(
                requestID: requestID, opcode: opcode, arrivedNanoseconds: arrivedNanoseconds,
                result: Result(catching: body))
        }
    }

    let eventLoop: any EventLoop
    private let waiting = Mutex<[Answer]>([])
    /// The batch being written, kept between batches for its capacity.
    private let batch: NIOLoopBoundBox<[Answer]>

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
        batch = .makeBoxSendingValue([], eventLoop: eventLoop)
    }

    /// Queues an answer; the first of a batch schedules the task that writes it.
    func enqueue(_ answer: Answer) {
        let first = waiting.withLock { waiting in
            waiting.append(answer)
            return waiting.count == 1
        }
        if first { eventLoop.execute { self.write() } }
    }

    /// Answers waiting for their task, for tests.
    var waitingCount: Int { waiting.withLock { $0.count } }

    private func write() {
        var answers = batch.value
        batch.value = []
        waiting.withLock { swap(&$0, &answers) }
        var connections: [ConnectionHandler] = []
        for answer in answers {
            let connection = answer.connection.value
            if connection.holdFlush() { connections.append(connection) }
            answer.finish()
        }
        for connection in connections { connection.releaseFlush() }
        answers.removeAll(keepingCapacity: true)
        batch.value = answers
    }
}

/// One `AnswerQueue` per event loop of a group.
struct AnswerQueues: Sendable {
    private let queues: [ObjectIdentifier: AnswerQueue]

    init(_ group: any EventLoopGroup) {
        var queues: [ObjectIdentifier: AnswerQueue] = [:]
        for eventLoop in group.makeIterator() {
            queues[ObjectIdentifier(eventLoop)] = AnswerQueue(eventLoop: eventLoop)
        }
        self.queues = queues
    }

    func queue(of eventLoop: any EventLoop) -> AnswerQueue {
        guard let queue = queues[ObjectIdentifier(eventLoop)] else {
            preconditionFailure("a channel on an event loop outside the server's group")
        }
        return queue
    }
}
