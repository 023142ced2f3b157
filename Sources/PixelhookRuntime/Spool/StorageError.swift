import SystemPackage

/// A disk operation that failed, said the way an operator reads it:
/// `cannot write /var/spool/pixelhook/…: No space left on device`.
public struct StorageError: Error, Sendable, CustomStringConvertible {
    public let operation: String
    public let path: String
    public let errno: Errno
    /// Set when pixelhook refuses `path` itself (its owner or mode, `SpoolTrust`): what is
    /// wrong and the command that fixes it.
    public let refusal: String?

    public init(_ operation: String, _ path: String, _ errno: Errno) {
        self.operation = operation
        self.path = path
        self.errno = errno
        refusal = nil
    }

    private init(refusing path: String, _ why: String) {
        operation = "trust"
        self.path = path
        errno = .permissionDenied
        refusal = why
    }

    /// `path` is not pixelhook's alone: another user owns it or may write to it.
    public static func refused(_ path: String, _ why: String) -> StorageError { StorageError(refusing: path, why) }

    public var description: String {
        if let refusal { return "refusing \(path): \(refusal)" }
        return "cannot \(operation) \(path): \(errno.description)"
    }

    /// What an HTTP client may learn: the kind of failure, never a path or a user name (the
    /// details go to the web server's error log).
    public var publicReason: String {
        if refusal != nil { return "spool refused: another user owns it or may write to it" }
        switch errno {
        case .noSpace, .diskQuotaExceeded: return "storage failed: disk full"
        case .permissionDenied, .notPermitted, .readOnlyFileSystem, .notDirectory, .noSuchFileOrDirectory,
             .tooManySymbolicLinkLevels: return "spool not writable"
        default: return "storage failed (the web server's error log says why)"
        }
    }
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
