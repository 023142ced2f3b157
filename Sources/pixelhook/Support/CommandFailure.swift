import PixelhookRuntime

/// A command that could not do its work, said in one line on stderr, with its exit status.
struct CommandFailure: Error, CustomStringConvertible {
    enum Status: Int32 {
        /// Anything else that went wrong (nothing to replay, a handler failed).
        case failed = 1
        /// EX_DATAERR: names something the spool does not hold (`show` of an unknown delivery).
        case unknown = 65
        /// EX_IOERR: the spool could not be read or written.
        case storage = 74
        /// EX_NOPERM: started by root on another user's spool and cannot become that user.
        case permission = 77
        /// EX_CONFIG: the settings are invalid.
        case settings = 78
    }

    let status: Status
    let description: String

    init(_ status: Status, _ description: String) {
        self.status = status
        self.description = description
    }

    init(_ error: StorageError) { self.init(.storage, error.description) }
}
