import ArgumentParser
import FulcrumAllocator
import FulcrumCore

/// `fulcrum version`: the build and the allocator in use.
struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the version and the allocator in use.")

    func run() {
        print("fulcrum \(FulcrumVersion.string)")
        print("allocator: jemalloc \(Allocator.jemallocVersion() ?? "unknown")")
    }
}
