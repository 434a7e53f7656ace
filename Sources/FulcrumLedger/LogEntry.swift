import FulcrumCore

/// One entry of a cluster's replicated log: a group commit's inputs (its
/// commands, their idempotency keys and attached records) and the leader's
/// timestamp. Every replica applies it through the same state machine, so
/// every replica computes the same outcomes, failures included; apply reads
/// no clock of its own (`at` is the group's "now").
public struct LogEntry: Hashable, Sendable {
    /// One command of the group as it was submitted.
    public struct Command: Hashable, Sendable {
        public var command: LedgerCommand?
        public var idempotencyKey: String?
        public var records: RecordBatch?
        public init(command: LedgerCommand?, idempotencyKey: String? = nil, records: RecordBatch? = nil) {
            precondition(command != nil || records != nil, "a command or records")
            self.command = command
            self.idempotencyKey = idempotencyKey
            self.records = records
        }
    }

    /// The position in the log: 1, 2, 3, … without gaps.
    public var sequence: UInt64
    /// The leader's term (the create revision of its leadership) when it appended.
    public var term: UInt64
    /// The group's time, from the leader's clock.
    public var at: Timestamp
    public var commands: [Command]

    public init(sequence: UInt64, term: UInt64, at: Timestamp, commands: [Command]) {
        self.sequence = sequence
        self.term = term
        self.at = at
        self.commands = commands
    }

    /// Leads every encoded entry: a log of another program or format is refused, never applied.
    static let magic: UInt32 = 0x474F_4C46  // "FLOG"
    /// The entry format this build writes and reads.
    public static let formatVersion: UInt8 = 1
    /// What a cluster's log says its entries are: a replica refuses a log that says otherwise.
    public static let formatName = "fulcrum-log \(formatVersion)"

    public func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: 64 + commands.count * 96)
        writer.write(Self.magic)
        writer.write(Self.formatVersion)
        writer.write(sequence)
        writer.write(term)
        writer.write(at.millisecondsSinceEpoch)
        writer.write(UInt32(commands.count))
        for entry in commands {
            writer.write(UInt8((entry.command == nil ? 0 : 1) | (entry.idempotencyKey == nil ? 0 : 2) | (entry.records == nil ? 0 : 4)))
            if let command = entry.command { writer.write(bytes: CommandCodec.encode(command, exact: true)) }
            if let key = entry.idempotencyKey { writer.write(key) }
            if let records = entry.records { records.encode(into: &writer) }
        }
        return writer.bytes
    }

    /// Decodes an entry; anything but this build's format is `corrupt`.
    public static func decode(_ bytes: [UInt8]) throws(FulcrumError) -> LogEntry {
        try bytes.decode("log entry") { (reader) throws(FulcrumError) -> LogEntry in
            guard try reader.read(UInt32.self) == magic else {
                throw FulcrumError(.corrupt, "not a Fulcrum log entry")
            }
            let version = try reader.read(UInt8.self)
            guard version == formatVersion else {
                throw FulcrumError(.corrupt, "log entry format \(version); this build reads \(formatVersion)")
            }
            let sequence: UInt64 = try reader.read()
            let term: UInt64 = try reader.read()
            let at = Timestamp(millisecondsSinceEpoch: try reader.read())
            let count = Int(try reader.read(UInt32.self))
            var commands: [Command] = []
            for _ in 0..<count {
                let flags = try reader.read(UInt8.self)
                guard flags & 5 != 0, flags < 8 else { throw FulcrumError(.corrupt, "a logged command with flags \(flags)") }
                let command = flags & 1 == 0 ? nil : try reader.decodeSized { (inner) throws(FulcrumError) in try CommandCodec.decode(&inner) }
                let key = flags & 2 == 0 ? nil : try reader.readString()
                let records = flags & 4 == 0 ? nil : try RecordBatch.decode(&reader)
                commands.append(Command(command: command, idempotencyKey: key, records: records))
            }
            return LogEntry(sequence: sequence, term: term, at: at, commands: commands)
        }
    }
}

extension RecordBatch {
    func encode(into writer: inout ByteWriter) {
        writer.write(UInt32(guards.count))
        for guardKey in guards { writer.write(key: guardKey.key, value: guardKey.value) }
        writer.write(UInt32(writes.count))
        for write in writes { writer.write(key: write.key, value: write.value) }
        writer.write(UInt32(additions.count))
        for addition in additions {
            writer.write(bytes: addition.key)
            writer.write(addition.amount)
        }
    }

    static func decode(_ reader: inout ByteReader) throws(FulcrumError) -> RecordBatch {
        var batch = RecordBatch()
        for _ in 0..<Int(try reader.read(UInt32.self)) {
            let (key, value) = try reader.readKeyValue()
            batch.guards.append(Guard(key: key, value: value))
        }
        for _ in 0..<Int(try reader.read(UInt32.self)) {
            batch.writes.append(try reader.readKeyValue())
        }
        for _ in 0..<Int(try reader.read(UInt32.self)) {
            batch.additions.append((try reader.readBytes(), try reader.read()))
        }
        return batch
    }
}

extension ByteWriter {
    /// A key, then a flag and the value when there is one.
    mutating func write(key: [UInt8], value: [UInt8]?) {
        write(bytes: key)
        write(UInt8(value == nil ? 0 : 1))
        if let value { write(bytes: value) }
    }
}

extension ByteReader {
    mutating func readKeyValue() throws(FulcrumError) -> (key: [UInt8], value: [UInt8]?) {
        let key = try readBytes()
        return (key, try read(UInt8.self) == 0 ? nil : try readBytes())
    }

    /// Reads a UInt32-sized part with `body`, which must consume exactly it.
    mutating func decodeSized<T>(_ body: (inout ByteReader) throws(FulcrumError) -> T) throws(FulcrumError) -> T {
        let bytes = try readBytes()
        return try bytes.decode("logged command", body)
    }
}
