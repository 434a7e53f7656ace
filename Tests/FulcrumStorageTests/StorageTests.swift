import Foundation
import FulcrumStorage
import Testing

func temporaryDirectory(_ name: String = #function) -> String {
    let path = NSTemporaryDirectory() + "fulcrum-storage-\(UUID().uuidString)"
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

@Suite struct EnvironmentTests {
    @Test func openFailsCleanlyOnAMissingDirectory() {
        do {
            _ = try Environment(path: "/nonexistent/fulcrum", options: .init(mapSizeBytes: 1 << 20))
            Issue.record("opened a missing directory")
        } catch {
            #expect(error.code == ENOENT)
            #expect(error.description.contains("mdb_env_open"))
        }
    }

    @Test func openFailsOnAFileThatIsNotLMDB() throws {
        let directory = temporaryDirectory()
        try Data(repeating: 0xAB, count: 16_384).write(to: URL(fileURLWithPath: directory + "/data.mdb"))
        #expect(throws: LMDBError.invalid) {
            _ = try Environment(path: directory, options: .init(mapSizeBytes: 1 << 20))
        }
    }

    @Test func writesAreVisibleAfterCommitOnlyAndAbortDiscards() throws {
        let environment = try Environment(path: temporaryDirectory(), options: .init(mapSizeBytes: 1 << 20, durable: false))
        let database = try environment.openDatabase("t", create: true)
        let write = try WriteTransaction(environment)
        try write.put(database, key: [1], value: [10])
        var reader = try ReadTransaction(environment)
        #expect(try reader.value(database, key: [1]) == nil)
        try write.commit()
        #expect(try reader.value(database, key: [1]) == nil, "a snapshot does not move")
        reader.reset()
        try reader.renew()
        #expect(try reader.value(database, key: [1]) == [10])

        let discarded = try WriteTransaction(environment)
        try discarded.put(database, key: [2], value: [20])
        discarded.abort()
        let dropped = try WriteTransaction(environment)
        try dropped.put(database, key: [3], value: [30])
        _ = consume dropped  // deinit aborts
        let check = try ReadTransaction(environment)
        #expect(try check.value(database, key: [2]) == nil && check.value(database, key: [3]) == nil)
    }

    @Test func cursorWalksInKeyOrderAndSeeks() throws {
        let environment = try Environment(path: temporaryDirectory(), options: .init(mapSizeBytes: 1 << 20, durable: false))
        let database = try environment.openDatabase("t", create: true)
        let write = try WriteTransaction(environment)
        for key: UInt8 in [5, 1, 3] { try write.put(database, key: [key], value: [key * 2]) }
        try write.commit()
        let read = try ReadTransaction(environment)
        let cursor = try read.cursor(database)
        var keys: [UInt8] = []
        var record = try cursor.first()
        while let (key, _) = record {
            keys.append(key[0])
            record = try cursor.next()
        }
        #expect(keys == [1, 3, 5])
        #expect(try cursor.seek(atLeast: [2])?.key == [3])
        #expect(try cursor.seek(atLeast: [6]) == nil)
        #expect(try read.count(database) == 3)
    }

    @Test func aFullMapIsATypedErrorAndGrowingFixesIt() throws {
        let environment = try Environment(path: temporaryDirectory(), options: .init(mapSizeBytes: 64 << 10, durable: false))
        let database = try environment.openDatabase("t", create: true)
        let big = [UInt8](repeating: 7, count: 4096)
        func fill() throws {
            let write = try WriteTransaction(environment)
            for key in 0..<64 { try write.put(database, key: [UInt8(key)], value: big) }
            try write.commit()
        }
        #expect(throws: LMDBError.mapFull) { try fill() }
        try environment.setMapSize(bytes: 4 << 20)
        try fill()
        #expect(environment.mapSizeBytes == 4 << 20)
    }

    @Test func appendRejectsOutOfOrderKeys() throws {
        let environment = try Environment(path: temporaryDirectory(), options: .init(mapSizeBytes: 1 << 20, durable: false))
        let database = try environment.openDatabase("t", create: true)
        let write = try WriteTransaction(environment)
        try write.append(database, key: [2], value: [])
        #expect(throws: LMDBError.keyExists) { try write.append(database, key: [1], value: []) }
    }
}
