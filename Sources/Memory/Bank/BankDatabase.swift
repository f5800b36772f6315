import CSQLite
import Foundation

/// One SQLite connection to a bank's `bank.sqlite`, with prepared statements and transactions.
/// Every failure throws a `MemoryBankError` naming the file and SQLite's message.
final class BankDatabase {
    let path: String
    private let handle: OpaquePointer
    /// Statements prepared once and reused (each edit runs the same few).
    private var prepared: [String: BankStatement] = [:]

    /// Opens `path` read-write; `create` makes the file when absent. Links are not followed.
    init(path: String, create: Bool) throws {
        self.path = path
        var db: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
            sqlite3_close(db)
            throw MemoryBankError("\(path): cannot open the bank database: \(message)")
        }
        handle = db
        sqlite3_extended_result_codes(db, 1)
        // Another process holding the write lock is waited for, up to 5 s, instead of failing at once.
        sqlite3_busy_timeout(db, 5000)
    }

    deinit {
        prepared = [:]
        sqlite3_close_v2(handle)
    }

    func error(_ what: String) -> MemoryBankError {
        MemoryBankError("\(path): \(what): \(String(cString: sqlite3_errmsg(handle)))")
    }

    /// Runs SQL without results (several statements allowed).
    func execute(_ sql: String) throws {
        guard sqlite3_exec(handle, sql, nil, nil, nil) == SQLITE_OK else { throw error("cannot run \"\(sql)\"") }
    }

    func prepare(_ sql: String) throws -> BankStatement {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil) == SQLITE_OK, let statement else {
            throw error("cannot prepare \"\(sql)\"")
        }
        return BankStatement(statement, database: self)
    }

    /// The statement for `sql`, prepared on first use and kept. A caller that steps it through a
    /// query resets it when done, so that it does not hold a read transaction open.
    func cached(_ sql: String) throws -> BankStatement {
        if let statement = prepared[sql] { return statement }
        let statement = try prepare(sql)
        prepared[sql] = statement
        return statement
    }

    /// The single value of a one-row query.
    func scalar(_ sql: String) throws -> BankStatement.Value {
        let statement = try prepare(sql)
        guard try statement.step() else { throw MemoryBankError("\(path): \"\(sql)\" returned no row") }
        return statement.value(0)
    }

    /// Runs `body` in one write transaction (BEGIN IMMEDIATE … COMMIT); any error rolls it back.
    func transaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }
}

/// A prepared statement: bind parameters (1-based), step through rows, read columns (0-based).
final class BankStatement {
    enum Value: Equatable {
        case null
        case integer(Int64)
        case real(Double)
        case text(String)
        case blob([UInt8])
    }

    private let statement: OpaquePointer
    /// Unowned: the database keeps its cached statements, and a statement never outlives its database.
    private unowned let database: BankDatabase

    fileprivate init(_ statement: OpaquePointer, database: BankDatabase) {
        self.statement = statement
        self.database = database
    }

    deinit { sqlite3_finalize(statement) }

    /// Clears the previous run and binds `values` to the parameters in order.
    func bind(_ values: [Value]) throws {
        sqlite3_reset(statement)
        sqlite3_clear_bindings(statement)
        for (i, value) in values.enumerated() {
            let index = Int32(i + 1)
            let rc: Int32
            switch value {
            case .null: rc = sqlite3_bind_null(statement, index)
            case .integer(let v): rc = sqlite3_bind_int64(statement, index, v)
            case .real(let v): rc = sqlite3_bind_double(statement, index, v)
            case .text(let s):
                let count = Int32(s.utf8.count)
                rc = s.withCString { csqlite_bind_text(statement, index, $0, count) }
            case .blob(let bytes):
                // A zero-length blob, not NULL: SQLite reads no bytes, but needs a non-nil pointer.
                rc = bytes.withUnsafeBytes { csqlite_bind_blob(statement, index, $0.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32($0.count)) }
            }
            guard rc == SQLITE_OK else { throw database.error("cannot bind parameter \(index)") }
        }
    }

    /// Advances to the next result row: true while there is one.
    func step() throws -> Bool {
        switch sqlite3_step(statement) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw database.error("cannot run \"\(String(cString: sqlite3_sql(statement)))\"")
        }
    }

    /// Binds `values` and runs the statement to its end (INSERT, UPDATE, DELETE).
    func run(_ values: [Value]) throws {
        try bind(values)
        while try step() {}
        reset()
    }

    /// Ends the current run (a query's read transaction with it); bindings stay.
    func reset() { sqlite3_reset(statement) }

    func value(_ column: Int32) -> Value {
        switch sqlite3_column_type(statement, column) {
        case SQLITE_INTEGER: return .integer(sqlite3_column_int64(statement, column))
        case SQLITE_FLOAT: return .real(sqlite3_column_double(statement, column))
        case SQLITE_TEXT: return .text(text(column))
        case SQLITE_BLOB:
            return .blob(withBlob(column) { Array($0) })
        default: return .null
        }
    }

    func integer(_ column: Int32) -> Int64 { sqlite3_column_int64(statement, column) }

    func text(_ column: Int32) -> String {
        guard let p = sqlite3_column_text(statement, column) else { return "" }
        let count = Int(sqlite3_column_bytes(statement, column))
        return String(decoding: UnsafeBufferPointer(start: p, count: count), as: UTF8.self)
    }

    /// The blob of `column` without copying it (valid only inside `body`); empty for NULL.
    func withBlob<T>(_ column: Int32, _ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        let p = sqlite3_column_blob(statement, column)
        let count = Int(sqlite3_column_bytes(statement, column))
        return try body(UnsafeRawBufferPointer(start: p, count: p == nil ? 0 : count))
    }

    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(statement, column) == SQLITE_NULL }
}
