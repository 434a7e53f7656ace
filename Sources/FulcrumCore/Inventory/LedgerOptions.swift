/// How to open a ledger: durability, clock, queue and group bounds, expiry sweeps, map size, scrubbing.
public struct LedgerOptions: Sendable {
    /// fsync every group (true) or never (tests, replays in a temporary directory).
    public var durable = true
    public var clock: any Clock = SystemClock()
    public var queueDepthMax = Limits.writerQueueDepthMax
    public var groupCommandsMax = Limits.groupCommandsMax
    /// How often the writer expires lapsed reservations; nil: only on `expireDue()`.
    public var expirySweepIntervalMilliseconds: Int64? = Limits.expirySweepIntervalMilliseconds
    public var mapSizeBytes = Limits.mapSizeBytesInitial
    /// The largest the map may grow to; a commit that needs more is `storage_error` ("the ledger is full").
    public var mapSizeBytesMax = Limits.mapSizeBytesMax
    /// LMDB reader slots; past them a new reader is `storage_error` ("readers full").
    public var readersMax = Limits.readersMax
    /// Stored records the background scrubber checksums per second; 0: no scrubber.
    public var scrubRecordsPerSecond = Limits.scrubRecordsPerSecond
    /// A replica of a cluster: it starts as a follower, writing nothing until
    /// its replica loop applies the log or makes it the leader.
    public var replica = false
    public init() {}
}

/// A snapshot of the ledger writer's counters (for `Stats`, the CLI's reports, benchmarks).
public struct WriterCounters: Sendable, Hashable {
    public var groups: Int
    public var commands: Int
    public var rejected: Int
    public var failedGroups: Int
    public var mapGrowths: Int
    /// Total time spent planning and writing commands into transactions.
    public var applyNanoseconds: UInt64
    /// Total time spent in `mdb_txn_commit` (page writes and fsyncs).
    public var commitNanoseconds: UInt64
    /// Reservations ended by their time to live.
    public var expiries: Int
    /// Commands waiting for the writer.
    public var queueDepth: Int

    package init(
        groups: Int, commands: Int, rejected: Int, failedGroups: Int, mapGrowths: Int, applyNanoseconds: UInt64,
        commitNanoseconds: UInt64, expiries: Int, queueDepth: Int
    ) {
        self.groups = groups
        self.commands = commands
        self.rejected = rejected
        self.failedGroups = failedGroups
        self.mapGrowths = mapGrowths
        self.applyNanoseconds = applyNanoseconds
        self.commitNanoseconds = commitNanoseconds
        self.expiries = expiries
        self.queueDepth = queueDepth
    }
}
