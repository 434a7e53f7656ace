import Foundation

/// A fresh path under the temporary directory (not created).
public func temporaryDirectory() -> String {
    NSTemporaryDirectory() + "fulcrum-test-\(UUID().uuidString)"
}

/// The path of an executable built beside the test bundle.
public func builtExecutable(_ name: String) -> String {
    if let override = ProcessInfo.processInfo.environment["FULCRUM_BIN_DIR"] { return override + "/" + name }
    var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    // On Linux the test bundle is an executable in the build directory; on
    // macOS it is a bundle two levels deeper.
    for _ in 0..<4 {
        let candidate = directory.appendingPathComponent(name).path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        directory.deleteLastPathComponent()
    }
    return Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent(name).path
}

/// Runs an executable to completion; returns its exit status and standard
/// output. With `timeoutSeconds`, a process still running then is killed
/// (SIGKILL), so a test that expects it to exit fails instead of hanging.
public func run(
    _ executable: String, _ arguments: [String], input: Data? = nil, timeoutSeconds: Double? = nil
) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    let stdin = Pipe()
    process.standardInput = stdin
    try process.run()
    if let timeoutSeconds {
        let pid = process.processIdentifier
        DispatchQueue.global().asyncAfter(deadline: .now() + timeoutSeconds) { [process] in
            if process.isRunning { kill(pid, SIGKILL) }
        }
    }
    if let input { stdin.fileHandleForWriting.write(input) }
    try stdin.fileHandleForWriting.close()
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return (process.terminationStatus, text)
}

/// `run` on a thread of its own. Async tests share a few threads (one per
/// core); a test that blocks one of them for the whole life of a long child
/// process starves every other test of the run (seen: a 0.3 s test took 121 s).
public func runDetached(
    _ executable: String, _ arguments: [String], input: Data? = nil, timeoutSeconds: Double? = nil
) async throws -> (status: Int32, output: String) {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread {
            continuation.resume(with: Result { try run(executable, arguments, input: input, timeoutSeconds: timeoutSeconds) })
        }
    }
}

/// Collects a child's standard output on a thread of its own.
public final class OutputCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    private let finished = DispatchSemaphore(value: 0)

    public init(_ handle: FileHandle) {
        Thread { [self] in
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                lock.withLock { data.append(chunk) }
            }
            finished.signal()
        }.start()
    }

    public var lineCount: Int { lock.withLock { data.reduce(0) { $0 + ($1 == 10 ? 1 : 0) } } }

    /// Complete lines only: a line cut by the kill has no newline and is dropped.
    public func completeLines() -> [String] {
        finished.wait()
        let text = lock.withLock { String(decoding: data, as: UTF8.self) }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines.removeLast()
        return lines
    }
}

/// A child process that announces itself with one JSON line on standard
/// output (`--json`): fulcrumd's "listening", a shim's "listening" or "delivering".
public final class ChildProcess {
    public let process = Process()
    /// The first line's fields.
    public let first: [String: Any]
    public let output: OutputCollector

    /// `errorLog`: a file that receives standard error (else it is discarded).
    public init(_ executable: String, _ arguments: [String], errorLog: String? = nil) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        if let errorLog {
            FileManager.default.createFile(atPath: errorLog, contents: nil)
            process.standardError = FileHandle(forWritingAtPath: errorLog)
        } else {
            process.standardError = FileHandle.nullDevice
        }
        try process.run()
        // The first line is read directly; the collector takes the rest.
        var line = Data()
        while true {
            let byte = try pipe.fileHandleForReading.read(upToCount: 1) ?? Data()
            guard let first = byte.first else { throw ServerProcessError.exitedEarly }
            if first == 10 { break }
            line.append(first)
        }
        guard let object = try? JSONSerialization.jsonObject(with: line) as? [String: Any] else {
            throw ServerProcessError.noAddress(String(decoding: line, as: UTF8.self))
        }
        first = object
        output = OutputCollector(pipe.fileHandleForReading)
    }

    /// Sends `signal` and waits for the process to end.
    public func stop(_ signal: Int32 = SIGTERM) {
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
    }

    deinit {
        if process.isRunning { stop(SIGKILL) }
    }
}

/// fulcrumd serving a data directory on a free port.
public final class ServerProcess {
    public let child: ChildProcess
    public var process: Process { child.process }
    public var output: OutputCollector { child.output }
    public let address: String
    /// The HTTP gateway's address, when started with `--http`.
    public let httpAddress: String?

    /// Starts `fulcrumd serve --data DIRECTORY --listen LISTEN --json` plus
    /// `arguments` (LISTEN: a free port unless given), and waits for its "listening" line.
    public init(data: String, listen: String = "127.0.0.1:0", arguments: [String] = [], errorLog: String? = nil) throws {
        child = try ChildProcess(
            builtExecutable("fulcrumd"), ["serve", "--data", data, "--listen", listen, "--json"] + arguments, errorLog: errorLog)
        guard let address = child.first["listening"] as? String else { throw ServerProcessError.noAddress("\(child.first)") }
        self.address = address
        httpAddress = child.first["http"] as? String
    }

    public var port: Int { Int(address.split(separator: ":").last!)! }

    /// Sends `signal` and waits for the process to end.
    public func stop(_ signal: Int32 = SIGTERM) {
        child.stop(signal)
    }
}

public enum ServerProcessError: Error {
    case exitedEarly
    case noAddress(String)
}
