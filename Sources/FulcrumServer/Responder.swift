import FulcrumCore
import FulcrumWire
import NIOCore
import SwiftProtobuf

/// Answers one request, from any thread: the answer is built and written on
/// the connection's event loop.
struct Responder: Sendable {
    let connection: NIOLoopBound<ConnectionHandler>
    let requestID: UInt32
    let opcode: Opcode
    /// When the request arrived (uptime), for its latency.
    let arrivedNanoseconds: UInt64

    /// Runs `body` on the event loop and answers with its payload or its error.
    func complete(_ body: @escaping @Sendable () throws(FulcrumError) -> ByteBuffer) {
        let connection = self.connection
        let requestID = self.requestID
        let opcode = self.opcode
        let arrived = arrivedNanoseconds
        if connection.eventLoop.inEventLoop {
            connection.value.finish(requestID: requestID, opcode: opcode, arrivedNanoseconds: arrived, result: Result(catching: body))
        } else {
            connection.eventLoop.execute {
                connection.value.finish(
                    requestID: requestID, opcode: opcode, arrivedNanoseconds: arrived, result: Result(catching: body))
            }
        }
    }

    func succeed(_ message: some SwiftProtobuf.Message & Sendable) {
        complete { message.payload() }
    }

    func fail(_ error: FulcrumError) {
        complete { () throws(FulcrumError) in throw error }
    }
}
