import PixelhookCore
import PixelhookRuntime

/// A command that could not do its work, said in one line on stderr, with its exit status.
struct CommandFailure: Error, CustomStringConvertible {
    let status: ExitStatus
    let description: String

    init(_ status: ExitStatus, _ description: String) {
        self.status = status
        self.description = description
    }

    init(_ error: StorageError) { self.init(.storage, error.description) }
}
