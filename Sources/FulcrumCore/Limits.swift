/// Every bound of the system in one place, units last in each name.
/// `LimitsTests` checks how they relate.
public enum Limits {
    /// The longest node id, SKU id, order id or receipt id, in UTF-8 bytes.
    public static let nameBytesMax = 64
    /// The longest idempotency key, in UTF-8 bytes.
    public static let idempotencyKeyBytesMax = 128
    /// The longest free-text reason on an adjustment, in UTF-8 bytes.
    public static let reasonBytesMax = 256
    /// The longest feed source name or source reference on an adjustment, in UTF-8 bytes.
    public static let sourceBytesMax = 128
    /// How far back a counted snapshot (`as_of_ms`) may reach, in ledger
    /// entries: keeping the changes applied since the count reads them all,
    /// so an older count is refused rather than read without bound.
    public static let countEntriesScannedMax = 100_000
    /// How long refurbishing a returned unit takes when its return does not
    /// say: its receipt is due this long after the return is received.
    public static let refurbishSecondsDefault: Int64 = 7 * 24 * 3600
    /// How often a journey's backordered orders are looked at for stock that arrived.
    public static let backorderSweepIntervalMilliseconds = 1_000
    /// Backordered orders one pass reads (first come first served among them).
    public static let backordersScannedMax = 1_000
    /// Backordered orders one pass sources again.
    public static let backordersReleasedMax = 100
    /// The deepest nesting of arrays and objects in a JSON input, counting
    /// the outermost: Foundation's `JSONDecoder` limit, which the fast
    /// reader (`JSONReader`) keeps so that both accept the same inputs.
    public static let jsonDepthMax = 512
    /// Insight counters: minutes are kept two days, hours 90 days, days
    /// three years, each only once summed into the coarser level.
    public static let insightMinutesKeptMilliseconds: Int64 = 2 * 86_400_000
    public static let insightHoursKeptMilliseconds: Int64 = 90 * 86_400_000
    public static let insightDaysKeptMilliseconds: Int64 = 1_096 * 86_400_000
    /// How often the leader evaluates the alert rules.
    public static let alertEvaluationIntervalMilliseconds = 15_000
    /// How often the leader rolls insight counters up and drops expired ones.
    public static let insightRollUpIntervalMilliseconds = 60_000
    /// Buckets one roll-up pass sums into each coarser level, and finer records it deletes.
    public static let insightBucketsRolledPerPassMax = 48
    public static let insightRecordsDeletedPerPassMax = 10_000
    /// Orders one insights report reads looking for stuck ones, and positions it sums per node.
    public static let insightOrdersScannedMax = 20_000
    public static let insightPositionsScannedMax = 50_000
    /// An order unchanged this long (and not waiting for stock) is stuck, unless a report says otherwise.
    public static let insightStuckAfterSecondsDefault: Int64 = 3_600
    /// Live solves waiting to be priced by nearest-first; past it they are skipped (and counted).
    public static let baselineQueueDepthMax = 1_024
    /// How often priced baselines are written to the counters.
    public static let baselineFlushIntervalMilliseconds = 1_000
    /// The most lines in one reservation.
    public static let reservationLinesMax = 256
    /// The most channels with an allocation at one position (and at every
    /// node): a reservation line reads them all.
    public static let allocationsPerPositionMax = 32
    /// The most preorders promised one scheduled receipt (receiving it
    /// rewrites each of their reservations in one transaction).
    public static let preordersPerReceiptMax = 1_000
    /// The largest allocation share: all of the on hand.
    public static let allocationShareBasisPointsMax: Int64 = 10_000
    /// The largest quantity in any field (units), far below `Int64.max` so
    /// that sums of a reservation's lines cannot overflow.
    public static let quantityMax: Int64 = 1_000_000_000_000
    /// The longest reservation time to live.
    public static let reservationTTLSecondsMax: Int64 = 366 * 24 * 3600
    /// Commands waiting for the ledger writer; a full queue answers `overloaded`.
    public static let writerQueueDepthMax = 16_384
    /// Commands in one group commit (one write transaction, one fsync).
    public static let groupCommandsMax = 1_024
    /// Reservations expired in one group, so a backlog of expiries cannot
    /// starve client commands. A sweep that reaches it is followed by another
    /// in the next group, so expiry keeps up with any rate of lapsing.
    public static let expiriesPerGroupMax = 256
    /// Free space below which a failed write is called a full disk, whatever errno it came with.
    public static let diskNearlyFullBytes = 16 << 20
    /// Distinct damaged records logged by one process (each is counted, and refused, always).
    public static let corruptRecordsLoggedMax = 1_000
    /// Records the background scrubber checks per second by default, and per step (one short snapshot).
    public static let scrubRecordsPerSecond = 20_000
    public static let scrubStepRecords = 1_000
    /// Records read per step by passes over a whole database (the format
    /// upgrade, `verify --checksums`).
    public static let storageChunkRecordsMax = 4_096
    /// How often an idle writer looks for expired reservations.
    public static let expirySweepIntervalMilliseconds: Int64 = 250
    /// The first LMDB map size of a new ledger; it doubles when it fills.
    public static let mapSizeBytesInitial = 256 << 20
    /// The largest the map may grow to.
    public static let mapSizeBytesMax = 1 << 40
    /// LMDB reader slots of a ledger: one per open reader (pooled readers,
    /// verify and backup snapshots); past it a new reader is `storage_error`.
    public static let readersMax = 1_024
    /// The largest cost, rate or penalty any input may give, in the request's currency.
    public static let moneyMax = 1e12
    /// The bounds of a SKU's weight.
    public static let weightKgMin = 1e-6
    public static let weightKgMax = 1e6
    /// The largest distance rule (half the Earth's circumference is about 20,000 km).
    public static let distanceKmMax = 1e6
    /// The bounds of a relative share or weight in a scenario's generator (of
    /// demand per centre, of SKUs per category, of lines per order).
    public static let shareMin = 1e-9
    public static let shareMax = 1e12
    /// The bounds of an order's priority (it scales the backorder penalty).
    public static let priorityMin = 1e-9
    public static let priorityMax = 1e9
    /// The most attributes one order may carry.
    public static let orderAttributesMax = 32
    /// Timeline entries an order read returns when the request names no limit, and at most.
    public static let timelineEntriesDefault = 1_000
    public static let timelineEntriesMax = 100_000
    /// Items of one page of a listing (orders, dead letters, reservations, positions) by default, and at most.
    public static let pageItemsDefault = 100
    public static let pageItemsMax = 10_000
    /// The most orders in one optimize request (a batch).
    public static let optimizeOrdersMax = 10_000
    /// Column generation's pricing rounds on one coupled batch (each prices every order once).
    public static let columnGenerationRoundsMax = 200
    /// Node sets a single order's exact search evaluates before the MIP decides instead.
    public static let nodeSetEvaluationsMax = 20_000
    /// The most lines in one order.
    public static let orderLinesMax = 1_000
    /// The most nodes in one optimize request.
    public static let optimizeNodesMax = 10_000
    /// The solve time limit when a request gives none; the response says
    /// `feasible` and the gap when it is reached.
    public static let solveTimeLimitMsDefault = 10_000
    /// The longest solve time limit any front end accepts.
    public static let solveTimeLimitMsMax = 60_000
    /// Solves one optimize-and-reserve makes when concurrent changes keep
    /// taking its planned stock, before it answers `plan_conflict`.
    public static let optimizeReserveAttemptsMax = 3
    /// Flags one SKU may carry.
    public static let skuFlagsMax = 16
    /// Tries a read-modify-write of one record makes (a node's settings)
    /// before answering `record_conflict`.
    public static let recordConflictAttemptsMax = 8
    /// The largest frame payload the RPC protocol accepts, in bytes.
    public static let framePayloadBytesMax = 16 << 20
    /// Requests one connection may have in flight; more are answered `overloaded`.
    public static let connectionRequestsInFlightMax = 4_096
    /// Admitted RPC connections (authenticated, or any when no token is set);
    /// past it the one idle longest is shed, and when all are busy a newcomer
    /// is refused with `overloaded`.
    public static let connectionsMax = 1_024
    /// RPC connections that have not yet sent a good Hello (a token is set),
    /// a budget of their own so they can never lock out clients with the
    /// token; past it the oldest is shed.
    public static let unauthenticatedConnectionsMax = 128
    /// How long an RPC connection may take to send Hello when a token is set.
    public static let helloTimeoutMilliseconds: Int64 = 5_000
    /// How long an RPC connection may go without a complete frame while it
    /// has nothing in flight (a stalled half-frame counts as nothing).
    public static let connectionIdleTimeoutMilliseconds: Int64 = 300_000
    /// How long the CLI waits for an answer by default (`--timeout-ms`).
    public static let cliRequestTimeoutMilliseconds: Int64 = 30_000
    /// Connections a client opens for one Hello when the server sheds them
    /// unanswered (it is flooded with unauthenticated connections).
    public static let clientHelloAttemptsMax = 3
    /// HTTP: open connections; past it the oldest still sending its first
    /// request's headers (else the one idle longest) is shed.
    public static let httpConnectionsMax = 1_024
    /// HTTP connections still sending their first request's headers.
    public static let httpPendingConnectionsMax = 256
    /// HTTP: how long a connection may wait for a request's headers (the
    /// first or the next on a kept-alive connection) before it is closed.
    public static let httpIdleTimeoutMilliseconds: Int64 = 30_000
    /// HTTP: how long a request's body may take to arrive once its headers have.
    public static let httpBodyTimeoutMilliseconds: Int64 = 30_000
    /// A client's first wait before connecting again after a lost connection;
    /// each failed attempt doubles it, up to the max (with jitter).
    public static let clientReconnectBackoffMsInitial: Int64 = 100
    public static let clientReconnectBackoffMsMax: Int64 = 5_000
    /// What a 503 answer's `Retry-After` asks of HTTP clients, in seconds.
    public static let retryAfterSeconds = 1
    /// How long a draining server waits for requests in flight.
    public static let drainTimeoutMilliseconds: Int64 = 10_000
    /// The most items in one bulk adjust or bulk ATP request.
    public static let batchItemsMax = 10_000
    /// The most distinct nodes and SKUs (ids are 32-bit).
    public static let internedNamesMax = Int(UInt32.max) - 1

    // Replication on etcd (docs/replication.md).
    /// The leader's lease: a leader that stops renewing it (crash, pause,
    /// partition) loses the leadership this long after its last renewal.
    public static let leaderLeaseSeconds: Int64 = 2
    /// How often a replica renews its lease (well inside `leaderLeaseSeconds`).
    public static let leaseRenewIntervalMilliseconds = 500
    /// The longest a leader waits for an append before its outcome is unknown.
    public static let logAppendTimeoutMilliseconds = 2_000
    /// The largest log entry (etcd refuses requests over 1.5 MiB by default,
    /// base64 adds a third): a larger group is cut in two.
    public static let logEntryBytesMax = 1 << 20
    /// Log entries a follower reads and applies in one transaction.
    public static let logEntriesPerApplyMax = 256
    /// How often a follower looks again at the leader key and the log when its watch says nothing.
    public static let followerPollIntervalMilliseconds = 500
    /// How long a replica waits before trying etcd again after a failure.
    public static let replicaRetryIntervalMilliseconds = 200
    /// Log entries the leader keeps below the lowest position a live replica
    /// published: a replica down for less than this catches up from the log;
    /// one down longer starts from a peer's snapshot (the snapshot RPC).
    public static let logTailEntriesKept: UInt64 = 10_000
    /// The bytes of a snapshot one answer carries (well inside `framePayloadBytesMax`).
    public static let snapshotChunkBytes = 4 << 20
    /// Snapshots a server keeps at once (each a compacted copy of the ledger on its disk).
    public static let snapshotsKeptMax = 2
    /// How long a replica waits for one answer of the snapshot RPC (the first makes the copy).
    public static let snapshotRequestTimeoutMilliseconds: Int64 = 120_000
    /// How long a starting replica that needs a snapshot keeps trying while no leader can give one.
    public static let snapshotStartWaitMilliseconds = 30_000
    /// A snapshot nobody read for this long is deleted.
    public static let snapshotIdleMilliseconds: Int64 = 60_000
    /// How often the leader compacts etcd's history after trimming the log.
    public static let logCompactionIntervalMilliseconds = 60_000
    /// How often a replica publishes the position it has applied.
    public static let appliedPublishIntervalMilliseconds = 1_000
    /// How long a read with `min_position` waits for its replica to apply
    /// that far before it answers `stale`.
    public static let readPositionWaitMilliseconds = 1_000
    /// How often such a read looks again.
    public static let readPositionPollMilliseconds = 1
    /// How many times a client follows `not_leader` answers for one call.
    public static let clientLeaderRedirectsMax = 8
    /// A client's pause before asking another replica when no leader is known (an election).
    public static let clientLeaderWaitMilliseconds = 250
    public static let etcdConnectTimeoutMilliseconds = 1_000
    public static let etcdRequestTimeoutMilliseconds = 2_000
    public static let etcdResponseBytesMax = 64 << 20
}
