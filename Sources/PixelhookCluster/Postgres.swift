#if canImport(Glibc)
import Glibc
#endif
import CLibPQ

/// What PostgreSQL or libpq said, in one line.
struct PostgresError: Error, CustomStringConvertible {
    let description: String
}

/// One libpq connection, used from one thread at a time. Every statement is sent with
/// parameters (`PQexecParams`): no value is ever spliced into SQL text.
final class PostgresConnection {
    private let connection: OpaquePointer

    init(_ conninfo: String) throws(PostgresError) {
        guard let opened = PQconnectdb(conninfo) else { throw PostgresError(description: "libpq: out of memory") }
        guard PQstatus(opened) == CONNECTION_OK else {
            let message = PostgresConnection.message(of: opened)
            PQfinish(opened)
            throw PostgresError(description: message)
        }
        connection = opened
        // `CREATE … IF NOT EXISTS` and the like say NOTICEs on stderr: a runner's is /dev/null,
        // a person running `init` again needs no "already exists".
        try query("SET client_min_messages TO warning")
    }

    deinit { PQfinish(connection) }

    /// A statement parameter: text (nil is SQL NULL), or bytes sent in binary (a `bytea`).
    enum Parameter {
        case text(String?)
        case bytes([UInt8])
    }

    /// Runs one statement; returns its rows as text (nil for NULL).
    @discardableResult
    func query(_ sql: String, _ parameters: [Parameter] = []) throws(PostgresError) -> [[String?]] {
        var buffers: [UnsafeMutablePointer<CChar>?] = []
        var lengths: [Int32] = []
        var formats: [Int32] = []
        for parameter in parameters {
            switch parameter {
            case .text(let text):
                buffers.append(text.map { strdup($0) } ?? nil)
                lengths.append(0)
                formats.append(0)
            case .bytes(let bytes):
                let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: max(bytes.count, 1))
                bytes.withUnsafeBytes { raw in
                    if let base = raw.baseAddress { memcpy(buffer, base, bytes.count) }
                }
                buffers.append(buffer)
                lengths.append(Int32(bytes.count))
                formats.append(1)
            }
        }
        defer { buffers.forEach { free($0) } }
        let values = buffers.map { UnsafePointer($0) }
        guard let result = PQexecParams(connection, sql, Int32(parameters.count), nil, values, lengths, formats, 0) else {
            throw PostgresError(description: PostgresConnection.message(of: connection))
        }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK:
            break
        default:
            throw PostgresError(description: PostgresConnection.text(PQresultErrorMessage(result)) ?? "statement failed")
        }
        let rows = PQntuples(result)
        let columns = PQnfields(result)
        return (0..<rows).map { row in
            (0..<columns).map { column in
                PQgetisnull(result, row, column) == 1 ? nil : String(cString: PQgetvalue(result, row, column))
            }
        }
    }

    /// The bytes of a `bytea` column as PostgreSQL's text form writes them (`\x` and hex).
    static func bytes(fromByteaText text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count >= 2, utf8[0] == UInt8(ascii: "\\"), utf8[1] == UInt8(ascii: "x"), utf8.count % 2 == 0 else { return nil }
        func nibble(_ byte: UInt8) -> UInt8? {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count / 2 - 1)
        var index = 2
        while index < utf8.count {
            guard let high = nibble(utf8[index]), let low = nibble(utf8[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }

    private static func message(of connection: OpaquePointer) -> String {
        text(PQerrorMessage(connection)) ?? "cannot connect"
    }

    /// libpq's messages end with a newline and may run over several lines: one line.
    private static func text(_ pointer: UnsafePointer<CChar>?) -> String? {
        guard let pointer else { return nil }
        let lines = String(cString: pointer).split(whereSeparator: \.isNewline).map { $0.trimmingCharacters() }
        let joined = lines.filter { !$0.isEmpty }.joined(separator: "; ")
        return joined.isEmpty ? nil : joined
    }
}

extension Substring {
    fileprivate func trimmingCharacters() -> String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
