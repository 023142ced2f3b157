import SystemPackage

/// Whole-file reads of the small files pixelhook keeps (payloads, config, arrival lists).
enum FileContents {
    struct TooLarge: Error {}

    /// Reads `path` to its end; throws `TooLarge` past `limit` bytes, `Errno` on I/O errors.
    static func read(_ path: String, limit: Int = 64 << 20) throws -> [UInt8] {
        let fd = try FileDescriptor.open(path, .readOnly, options: [.closeOnExec])
        return try fd.closeAfter {
            var bytes: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = try chunk.withUnsafeMutableBytes { try fd.read(into: $0) }
                if count == 0 { return bytes }
                bytes += chunk[0..<count]
                guard bytes.count <= limit else { throw TooLarge() }
            }
        }
    }
}
