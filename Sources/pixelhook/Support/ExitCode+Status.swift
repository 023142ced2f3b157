import ArgumentParser
import PixelhookCore

extension ExitCode {
    /// A command's exit through ArgumentParser, by the one table (`ExitStatus`).
    init(_ status: ExitStatus) { self.init(status.rawValue) }
}
