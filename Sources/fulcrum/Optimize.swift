import ArgumentParser
import Foundation
import FulcrumClient
import FulcrumConfig
import FulcrumCore
import FulcrumService
import FulcrumWire

/// `fulcrum optimize`: solve optimize requests (the contract: docs/optimize.md).
struct Optimize: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Choose the nodes that ship each order: optimize v2 JSON in, plans out.")

    @Option(help: "The request file (JSON); standard input when absent.") var request: String?
    @Flag(help: "Read one request per line and write one response per line.") var jsonl = false
    @Option(help: "optimal, greedy-priority or greedy-nearest (default: the profile's, else optimal).") var strategy: String?
    @Option(
        name: .customLong("time-limit-ms"),
        help: "Stop the search after this long; the answer is then `feasible` with its gap (default: the profile's, else \(Limits.solveTimeLimitMsDefault)).")
    var timeLimitMilliseconds: Int?
    @Option(help: "Offline: a fulfillment profiles file for requests naming a `profile` (fulcrumd has its own).")
    var profiles: String?
    @Flag(help: "Add, per order, why each unused node was not chosen (ineligible by which rule, or how much dearer).")
    var explain = false
    @Flag(help: "Write the request as a MathProg data section for models/dom.mod (glpsol) instead of solving.")
    var emitDat = false
    @Option(help: "Solve on this fulcrumd (HOST:PORT), against its ledger when the request has no inventory.")
    var server: String?
    @Option(help: "The server's token (default: $FULCRUM_TOKEN).") var token: String?
    @OptionGroup var connection: ConnectionOptions
    @Flag(help: "With --server: reserve the plan atomically (optimize-and-reserve; one order per request).")
    var reserve = false

    func validate() throws {
        do {
            _ = try OptimizeOptions(strategy: strategy, timeLimitMs: timeLimitMilliseconds, explain: explain)
        } catch {
            throw ValidationError("--\(error.path.replacingOccurrences(of: "_", with: "-")): \(error.message)")
        }
        guard !reserve || server != nil else { throw ValidationError("--reserve needs --server") }
        guard profiles == nil || server == nil else { throw ValidationError("--profiles is offline; fulcrumd solves under its own") }
        guard server == nil || !(emitDat || explain && reserve) else {
            throw ValidationError("--emit-dat is local; --explain does not combine with --reserve")
        }
    }

    func run() async throws {
        let input = try readRequest(request)
        let documents = jsonl ? Self.lines(of: input) : [0..<input.count]
        var client: FulcrumClient?
        if let server {
            do {
                // A solve may use its whole time limit: the wait is that plus --timeout-ms.
                client = try await connection.connect(
                    server, token: token, extraMilliseconds: Int64(timeLimitMilliseconds ?? Limits.solveTimeLimitMsDefault))
            } catch {
                throw fail(error, json: true)
            }
        }
        let profileTable = try profiles.map { (file) throws(FulcrumError) in try ProfilesFile.load(path: file, nodeIDs: nil) }
            ?? .builtIn
        var failures = 0
        for document in documents {
            do {
                if let client {
                    // The server validates; nodes left out are its network's.
                    let read = input.withUnsafeBytes { bytes in
                        Result { () throws(FulcrumError) in
                            try OptimizeRequest.decodeUnvalidated(json: UnsafeRawBufferPointer(rebasing: bytes[document]), defaultNodes: [])
                        }
                    }
                    print(try await remote(Fulcrum_V1_OptimizeProblem(try read.get()), client))
                } else {
                    let answered = input.withUnsafeBytes { bytes in
                        Result { () throws(FulcrumError) in
                            try answer(UnsafeRawBufferPointer(rebasing: bytes[document]), profiles: profileTable)
                        }
                    }
                    print(try answered.get())
                }
            } catch {
                failures += 1
                printErrorJSON(error)
            }
        }
        await client?.close()
        if failures > 0 { throw ExitCode(2) }
    }

    private func remote(_ problem: Fulcrum_V1_OptimizeProblem, _ client: FulcrumClient) async throws(FulcrumError) -> String {
        guard reserve else {
            let response = try await client.optimize(.with {
                $0.problem = problem
                $0.strategy = strategy ?? ""
                $0.timeLimitMs = UInt32(clamping: timeLimitMilliseconds ?? 0)
                $0.explain = explain
            })
            return String(decoding: try response.solution.domain().json(), as: UTF8.self)
        }
        let response = try await client.optimizeAndReserve(.with {
            $0.problem = problem
            $0.strategy = strategy ?? ""
            $0.timeLimitMs = UInt32(clamping: timeLimitMilliseconds ?? 0)
        })
        let reservation = try response.reservations.first.map { (message) throws(FulcrumError) in try message.domain().json.rendered } ?? "null"
        return "{\"attempts\":\(response.attempts),\"reservation\":\(reservation),\"response\":"
            + String(decoding: try response.solution.domain().json(), as: UTF8.self) + "}"
    }

    /// The byte ranges of `input`'s lines that hold more than whitespace;
    /// nothing is copied (the ranges index the input in place).
    static func lines(of input: Data) -> [Range<Int>] {
        input.withUnsafeBytes { bytes in
            var lines: [Range<Int>] = []
            var start = 0
            while start < bytes.count {
                let end = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
                if bytes[start..<end].contains(where: { $0 != 32 && $0 != 9 && $0 != 13 }) { lines.append(start..<end) }
                start = end + 1
            }
            return lines
        }
    }

    /// The request under its profile (so glpsol's data is the problem solved too), solved or rendered.
    private func answer(_ document: UnsafeRawBufferPointer, profiles: FulfillmentProfiles) throws(FulcrumError) -> String {
        var parsed = try OptimizeRequest.decode(json: document)
        var options = try OptimizeOptions(strategy: strategy, timeLimitMs: timeLimitMilliseconds, explain: explain)
        try profiles.apply(to: &parsed, options: &options)
        if emitDat { return try Service.mathProgData(parsed) }
        return String(decoding: try Service.solve(parsed, options: options).json(), as: UTF8.self)
    }
}
