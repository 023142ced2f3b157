import SystemPackage

/// Whole-file reads of the small files pixelhook keeps (payloads, config, arrival lists).
enum FileContents {
    struct TooLarge: Error {}

    /// Reads `path` to its end; throws `TooLarge` past `limit` bytes, `Errno` on I/O errors.
    /// The read buffer is left uninitialised: a runner reads a dozen small files per handler,
    /// and zeroing a 64 KiB buffer for each was half of its instructions.
    static func read(_ path: String, limit: Int = 64 << 20) throws -> [UInt8] {
        let fd = try FileDescriptor.open(path, .readOnly, options: [.closeOnExec])
        return try fd.closeAfter { try read(fd, limit: limit) }
    }

    /// The same from an open descriptor's position to its end; the caller closes it.
    static func read(_ fd: FileDescriptor, limit: Int = 64 << 20) throws -> [UInt8] {
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536, alignment: 1)
        defer { chunk.deallocate() }
        var bytes: [UInt8] = []
        while true {
            let count = try fd.read(into: chunk)
            if count == 0 { return bytes }
            bytes += UnsafeRawBufferPointer(rebasing: chunk[..<count])
            guard bytes.count <= limit else { throw TooLarge() }
        }
    }
}
