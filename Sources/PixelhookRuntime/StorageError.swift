import SystemPackage

/// A disk operation that failed, said the way an operator reads it:
/// `cannot write /var/spool/pixelhook/…: No space left on device`.
public struct StorageError: Error, Sendable, CustomStringConvertible {
    public let operation: String
    public let path: String
    public let errno: Errno

    public init(_ operation: String, _ path: String, _ errno: Errno) {
        self.operation = operation
        self.path = path
        self.errno = errno
    }

    public var description: String { "cannot \(operation) \(path): \(errno.description)" }
}

/// Runs a system call wrapper, naming the operation and path if it fails.
func attempt<T>(_ operation: String, _ path: String, _ body: () throws -> T) throws(StorageError) -> T {
    do {
        return try body()
    } catch let error as Errno {
        throw StorageError(operation, path, error)
    } catch {
        throw StorageError(operation, path, .ioError)
    }
}
