import CaissonJSON
import Foundation
import GRDB
import Synchronization

/// The engine's state: containers, networks and volumes in one SQLite database
/// (`ROOT/engine.db`, through GRDB). Several `caisson` processes may use it at once:
/// writes are IMMEDIATE transactions with a busy timeout, so two commands racing on one
/// container name serialise instead of corrupting anything. Each row holds its record
/// as JSON beside the columns that need to be unique or searched.
public final class EngineStore: Sendable {
    private let queue: DatabaseQueue
    /// Records already decoded, by their JSON text: a daemon lists the same containers
    /// again and again, and decoding is most of a list's cost. Any change to a record
    /// changes its text, so a hit is always the record as stored.
    private let decodedContainers = Mutex<[String: ContainerRecord]>([:])
    private static let decodedLimit = 4096

    public init(path: String) throws(EngineError) {
        do {
            var configuration = Configuration()
            configuration.busyMode = .timeout(30)
            queue = try DatabaseQueue(path: path, configuration: configuration)
            var migrator = DatabaseMigrator()
            migrator.registerMigration("v1") { db in
                try db.create(table: "container") { table in
                    table.column("id", .text).primaryKey()
                    table.column("name", .text).notNull().unique()
                    table.column("record", .text).notNull()
                }
                try db.create(table: "network") { table in
                    table.column("name", .text).primaryKey()
                    table.column("record", .text).notNull()
                }
                try db.create(table: "volume") { table in
                    table.column("name", .text).primaryKey()
                    table.column("record", .text).notNull()
                }
            }
            try migrator.migrate(queue)
        } catch {
            throw .store("\(path): \(error)")
        }
    }

    static func encode<T: Encodable>(_ value: T) throws(EngineError) -> String {
        do { return String(decoding: try JSONEncoding.encode(value), as: UTF8.self) } catch { throw .store("encode: \(error)") }
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws(EngineError) -> T {
        do { return try JSONDecoding.decode(type, from: Array(text.utf8)) } catch { throw .store("a damaged record: \(error)") }
    }

    /// Runs `body` in one IMMEDIATE write transaction (the write lock is taken at once,
    /// so concurrent writers from other processes wait instead of failing to upgrade).
    public func write<T>(_ body: (Database) throws -> T) throws(EngineError) -> T {
        do {
            return try queue.writeWithoutTransaction { db in
                var result: T?
                try db.inTransaction(.immediate) {
                    result = try body(db)
                    return .commit
                }
                return result!
            }
        } catch let error as EngineError {
            throw error
        } catch {
            throw .store("\(error)")
        }
    }

    public func read<T>(_ body: (Database) throws -> T) throws(EngineError) -> T {
        do {
            return try queue.read { db in try body(db) }
        } catch let error as EngineError {
            throw error
        } catch {
            throw .store("\(error)")
        }
    }

    // MARK: Containers

    public func containers() throws(EngineError) -> [ContainerRecord] {
        let rows = try read { db in try String.fetchAll(db, sql: "SELECT record FROM container") }
        let known = decodedContainers.withLock { cache in rows.map { cache[$0] } }
        var records: [ContainerRecord] = []
        var fresh: [(String, ContainerRecord)] = []
        for (row, cached) in zip(rows, known) {
            if let cached {
                records.append(cached)
            } else {
                let record = try EngineStore.decode(ContainerRecord.self, row)
                records.append(record)
                fresh.append((row, record))
            }
        }
        if !fresh.isEmpty {
            decodedContainers.withLock { cache in
                if cache.count + fresh.count > EngineStore.decodedLimit { cache.removeAll() }
                for (row, record) in fresh { cache[row] = record }
            }
        }
        return records.sorted { $0.created > $1.created }
    }

    /// Inserts a new container; fails if its name is taken.
    public func insert(_ record: ContainerRecord) throws(EngineError) {
        let text = try EngineStore.encode(record)
        try write { db in
            if let other = try String.fetchOne(db, sql: "SELECT id FROM container WHERE name = ?", arguments: [record.name]) {
                throw EngineError.nameInUse(name: record.name, id: other)
            }
            try db.execute(sql: "INSERT INTO container (id, name, record) VALUES (?, ?, ?)", arguments: [record.id, record.name, text])
        }
    }

    public func update(_ record: ContainerRecord) throws(EngineError) {
        let text = try EngineStore.encode(record)
        try write { db in
            if let other = try String.fetchOne(db, sql: "SELECT id FROM container WHERE name = ? AND id != ?",
                                               arguments: [record.name, record.id]) {
                throw EngineError.nameInUse(name: record.name, id: other)
            }
            try db.execute(sql: "UPDATE container SET name = ?, record = ? WHERE id = ?", arguments: [record.name, text, record.id])
        }
    }

    public func deleteContainer(_ id: String) throws(EngineError) {
        try write { db in try db.execute(sql: "DELETE FROM container WHERE id = ?", arguments: [id]) }
    }

    // MARK: Networks and volumes

    public func networks() throws(EngineError) -> [NetworkRecord] {
        let rows = try read { db in try String.fetchAll(db, sql: "SELECT record FROM network ORDER BY name") }
        var records: [NetworkRecord] = []
        for row in rows { records.append(try EngineStore.decode(NetworkRecord.self, row)) }
        return records
    }

    /// Inserts a network unless one of that name exists; `allocate` sees the others.
    public func insertNetwork(named name: String, _ allocate: ([NetworkRecord]) throws -> NetworkRecord) throws(EngineError) -> NetworkRecord {
        try write { db in
            let rows = try String.fetchAll(db, sql: "SELECT record FROM network")
            var existing: [NetworkRecord] = []
            for row in rows { existing.append(try EngineStore.decode(NetworkRecord.self, row)) }
            if let found = existing.first(where: { $0.name == name }) { throw EngineError.networkExists(found.name) }
            let record = try allocate(existing)
            try db.execute(sql: "INSERT INTO network (name, record) VALUES (?, ?)", arguments: [record.name, try EngineStore.encode(record)])
            return record
        }
    }

    public func deleteNetwork(_ name: String) throws(EngineError) {
        try write { db in try db.execute(sql: "DELETE FROM network WHERE name = ?", arguments: [name]) }
    }

    public func volumes() throws(EngineError) -> [VolumeRecord] {
        let rows = try read { db in try String.fetchAll(db, sql: "SELECT record FROM volume ORDER BY name") }
        var records: [VolumeRecord] = []
        for row in rows { records.append(try EngineStore.decode(VolumeRecord.self, row)) }
        return records
    }

    /// Inserts a volume, or returns the existing one of that name.
    public func ensureVolume(_ record: VolumeRecord) throws(EngineError) -> (VolumeRecord, created: Bool) {
        try write { db in
            if let row = try String.fetchOne(db, sql: "SELECT record FROM volume WHERE name = ?", arguments: [record.name]) {
                return (try EngineStore.decode(VolumeRecord.self, row), false)
            }
            try db.execute(sql: "INSERT INTO volume (name, record) VALUES (?, ?)", arguments: [record.name, try EngineStore.encode(record)])
            return (record, true)
        }
    }

    public func deleteVolume(_ name: String) throws(EngineError) {
        try write { db in try db.execute(sql: "DELETE FROM volume WHERE name = ?", arguments: [name]) }
    }
}
