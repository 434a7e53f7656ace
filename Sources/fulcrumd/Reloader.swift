import Dispatch
import FulcrumConfig
import FulcrumCore
import FulcrumService
import FulcrumTLS
import Logging
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// SIGHUP: reads the tokens file, the TLS files, the profiles file and the alerts file again.
/// A file that does not load leaves the old settings in place (logged); what
/// loads takes effect for the next request (tokens, profiles) or the next
/// connection (TLS), and goes into the audit trail.
struct Reloader: ServiceLifecycle.Service, CustomStringConvertible {
    let tokensFile: String?
    let alertsFile: String?
    let access: AccessControl
    let tls: ServerTLS?
    let service: FulcrumService.Service
    let logger: Logger
    var description: String { "reload" }

    func run() async throws {
        signal(SIGHUP, SIG_IGN)
        let (hangups, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        source.setEventHandler { continuation.yield() }
        source.resume()
        defer { source.cancel() }
        // One reload at a time, in signal order; the stream ends when the group shuts down.
        await cancelWhenGracefulShutdown {
            for await _ in hangups { await reload() }
        }
    }

    private func reload() async {
        let caller = Caller(token: "signal", request: "SIGHUP")
        if let tokensFile {
            do {
                let table = try TokensFile.load(path: tokensFile)
                access.replace(with: table)
                logger.info("reloaded \(tokensFile): \(table.names.count) tokens (\(table.names.joined(separator: ", ")))")
                try await service.recordAudit(
                    operation: "reload_tokens", subject: tokensFile, detail: "tokens: \(table.names.joined(separator: ", "))",
                    caller: caller)
            } catch {
                logger.error("kept the previous tokens: \(error)")
            }
        }
        if service.profilesFile != nil {
            do {
                let loaded = try await service.reloadProfiles(caller: caller)
                logger.info("reloaded \(loaded.source ?? "the profiles"): \(loaded.names.joined(separator: ", "))")
            } catch {
                logger.error("kept the previous profiles: \(error)")
            }
        }
        if let alertsFile {
            do {
                let rules = try AlertsFile.load(path: alertsFile)
                service.setAlertRules(rules)
                logger.info("reloaded \(alertsFile): \(rules.map(\.id).joined(separator: ", "))")
                try await service.recordAudit(
                    operation: "reload_alerts", subject: alertsFile, detail: "rules: \(rules.map(\.id).joined(separator: ", "))",
                    caller: caller)
            } catch {
                logger.error("kept the previous alert rules: \(error)")
            }
        }
        if let tls {
            do {
                try tls.reload()
                logger.info("reloaded the TLS certificate \(tls.files.certificate)")
                try await service.recordAudit(
                    operation: "reload_tls", subject: tls.files.certificate, detail: "new connections use it", caller: caller)
            } catch {
                logger.error("kept the previous TLS certificate: \(error)")
            }
        }
    }
}
