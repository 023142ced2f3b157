import PixelhookCore
import PixelhookRuntime

/// The fixture's spool named through `SpoolLayout`, as the spool code names it.
extension CommandFixture {
    /// Paths as `read`, `exists` and `age` take them: relative to `directory`.
    static let spoolFiles = SpoolLayout(root: "spool")
    /// Absolute paths.
    var spoolLayout: SpoolLayout { SpoolLayout(root: spool) }
}

extension DeliveryKey {
    /// The key of a `PROJECT/BUILD/EVENT` id a test knows to be valid.
    init(_ id: String) { self = DeliveryKey(id: id)! }
}

extension BuildID {
    /// The build of a `PROJECT/BUILD` id a test knows to be valid.
    init(_ id: String) {
        let parts = id.split(separator: "/").map(String.init)
        self.init(project: parts[0], build: parts[1])
    }
}
