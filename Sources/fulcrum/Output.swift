import Foundation
import FulcrumCore

func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

/// Prints a line and flushes, so a parent process reading a pipe sees it at once.
func printFlushed(_ line: String) {
    print(line)
    fflush(nil)
}

/// The bytes of a request file, or of standard input when no path is given.
/// An unreadable file is the spec's error object and a non-zero exit.
func readRequest(_ path: String?) throws -> Data {
    guard let path else { return FileHandle.standardInput.readDataToEndOfFile() }
    guard let data = FileManager.default.contents(atPath: path) else {
        throw fail(FulcrumError(.invalidArgument, "cannot read \(path)", path: path), json: true)
    }
    return data
}
