import PixelhookCore
import PixelhookRuntime

/// The scratch spool named through `SpoolLayout`, as the spool code names it.
extension Scratch {
    /// Paths as `read` and `files(under:)` take them: relative to `root`.
    static let spoolFiles = SpoolLayout(root: "spool")
    /// Absolute paths.
    var spoolLayout: SpoolLayout { SpoolLayout(root: spool) }
}
