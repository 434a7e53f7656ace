import ArgumentParser
import CJemalloc

/// `fulcrum version`: the build and the allocator in use.
struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the version and the allocator in use.")

    func run() {
        print("fulcrum 0.1.0")
        print("allocator: jemalloc \(jemallocVersion() ?? "unknown")")
    }
}

/// Asks jemalloc for its version through `mallctl`; nil if the call fails,
/// which would mean another allocator answered.
func jemallocVersion() -> String? {
    var version: UnsafePointer<CChar>?
    var size = MemoryLayout<UnsafePointer<CChar>?>.size
    guard mallctl("version", &version, &size, nil, 0) == 0, let version else { return nil }
    return String(cString: version)
}
