import CJemalloc

/// The allocator the executables link: jemalloc. Importing this module links it.
public enum Allocator {
    /// jemalloc's version through `mallctl`; nil if the call fails, which
    /// would mean another allocator answered.
    public static func jemallocVersion() -> String? {
        var version: UnsafePointer<CChar>?
        var size = MemoryLayout<UnsafePointer<CChar>?>.size
        guard mallctl("version", &version, &size, nil, 0) == 0, let version else { return nil }
        return String(cString: version)
    }
}
