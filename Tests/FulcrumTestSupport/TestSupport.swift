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

/// Runs an executable to completion; returns its exit status and standard output.
public func run(_ executable: String, _ arguments: [String], input: Data? = nil) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    let stdin = Pipe()
    process.standardInput = stdin
    try process.run()
    if let input { stdin.fileHandleForWriting.write(input) }
    try stdin.fileHandleForWriting.close()
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return (process.terminationStatus, text)
}
