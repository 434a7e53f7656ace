import FulcrumTLS
import HummingbirdCore
import Logging
import NIOCore

/// An HTTP child channel behind TLS whose certificate is the listener's
/// current one (`ServerTLS.reload()` reaches new connections; open ones
/// keep theirs). Hummingbird's own TLS channel holds one context for life.
struct ReloadableTLSChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value
    let base: Base
    let tls: ServerTLS

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(tls.makeHandler())
        }.flatMap {
            base.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}
