import AsyncHTTPClient
import Foundation
import FulcrumClient
import FulcrumCore
import FulcrumWire
import Logging
import NIOCore

/// An action shim: drains one provider's outbox in fulcrumd and POSTs each
/// message to the provider's URL, retrying with exponential backoff; a
/// message that still fails is acknowledged as undeliverable (fulcrumd keeps
/// it as a dead letter and fails the step that sent it). A delivered message
/// is acknowledged as delivered. Delivery is at least once: receivers drop
/// repeats by `X-Fulcrum-Message-Id`.
public final class WebhookDelivery: Sendable {
    public struct Options: Sendable {
        public var provider: String
        public var target: String
        /// Signs bodies (`X-Fulcrum-Hmac-Sha256`, hex) when set.
        public var secret: String?
        /// Attempts after the first before giving up.
        public var retries = 5
        /// The first retry waits this long; each next one twice as long (capped at `backoffMaxMilliseconds`).
        public var backoffMilliseconds = 200
        public var backoffMaxMilliseconds = 30_000
        /// How long to wait when the outbox is empty.
        public var pollMilliseconds = 100
        public var requestTimeoutMilliseconds = 10_000
        /// Messages taken from the outbox at a time.
        public var batchMessagesMax: UInt32 = 64

        public init(provider: String, target: String) {
            self.provider = provider
            self.target = target
        }
    }

    private let client: FulcrumClient
    private let http: HTTPClient
    private let options: Options
    private let logger: Logger

    public init(client: FulcrumClient, options: Options, logger: Logger) {
        precondition(options.retries >= 0 && options.backoffMilliseconds >= 1 && options.pollMilliseconds >= 1)
        self.client = client
        self.options = options
        self.logger = logger
        http = HTTPClient(eventLoopGroupProvider: .singleton)
    }

    /// Delivers until the task is cancelled.
    public func run() async {
        // Said once when fulcrumd goes away and once when it is back, not on every retry.
        var unreachable = false
        while !Task.isCancelled {
            do {
                let page = try await client.call(
                    .pullOutbox, Fulcrum_V1_PullOutboxRequest.with {
                        $0.provider = options.provider
                        $0.limit = options.batchMessagesMax
                    }, as: Fulcrum_V1_PullOutboxResponse.self)
                if unreachable {
                    unreachable = false
                    logger.info("\(options.provider): fulcrumd is reachable again")
                }
                if page.messages.isEmpty {
                    try? await Task.sleep(for: .milliseconds(options.pollMilliseconds))
                    continue
                }
                for message in page.messages where !Task.isCancelled {
                    try await deliver(message)
                }
            } catch {
                if !unreachable {
                    unreachable = true
                    logger.warning("\(options.provider): fulcrumd: \(error); retrying until it is back")
                }
                try? await Task.sleep(for: .milliseconds(options.backoffMilliseconds))
            }
        }
    }

    public func shutdown() async {
        try? await http.shutdown()
    }

    /// Posts one message until it is taken or the retries run out, then acknowledges it.
    private func deliver(_ message: Fulcrum_V1_OutboxMessage) async throws(FulcrumError) {
        var reason = ""
        for attempt in 0...options.retries {
            if attempt > 0 {
                let delay = min(options.backoffMilliseconds << min(attempt - 1, 20), options.backoffMaxMilliseconds)
                try? await Task.sleep(for: .milliseconds(delay))
                if Task.isCancelled { return }
            }
            reason = await post(message)
            if reason.isEmpty {
                try await acknowledge(message, delivered: true, reason: "")
                logger.info("\(options.provider): delivered \(message.topic) \(message.id) for \(message.order)")
                return
            }
            logger.warning("\(options.provider): attempt \(attempt + 1) of \(message.id) failed: \(reason)")
        }
        try await acknowledge(message, delivered: false, reason: "\(reason) after \(options.retries + 1) attempts")
    }

    /// Empty when the receiver answered 2xx; else why not.
    private func post(_ message: Fulcrum_V1_OutboxMessage) async -> String {
        var request = HTTPClientRequest(url: options.target)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "X-Fulcrum-Topic", value: message.topic)
        request.headers.add(name: "X-Fulcrum-Message-Id", value: message.id)
        request.headers.add(name: "X-Fulcrum-Order", value: message.order)
        if let secret = options.secret {
            request.headers.add(name: "X-Fulcrum-Hmac-Sha256", value: WebhookSignature.hex(Data(message.body.utf8), secret: secret))
        }
        request.body = .bytes(ByteBuffer(string: message.body))
        do {
            let response = try await http.execute(request, timeout: .milliseconds(Int64(options.requestTimeoutMilliseconds)))
            _ = try? await response.body.collect(upTo: 1 << 16)
            return (200..<300).contains(response.status.code) ? "" : "HTTP \(response.status.code)"
        } catch {
            return "\(error)"
        }
    }

    private func acknowledge(_ message: Fulcrum_V1_OutboxMessage, delivered: Bool, reason: String) async throws(FulcrumError) {
        _ = try await client.call(
            .acknowledge, Fulcrum_V1_AcknowledgeRequest.with {
                $0.provider = options.provider
                $0.message = message.id
                $0.delivered = delivered
                $0.reason = String(reason.prefix(200))
            }, as: Fulcrum_V1_AcknowledgeResponse.self)
    }
}
