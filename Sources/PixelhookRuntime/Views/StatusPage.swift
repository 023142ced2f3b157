import PixelhookCore

/// The body of `GET ?view=builds`: the newest `buildLimit` builds of the spool as `BuildsPage`
/// renders them.
///
/// Its cost is bounded whatever the spool holds: one `stat` per build directory, then only the
/// builds that can be among the newest `buildLimit` are read (`Spool.storedBuilds(newest:)`),
/// and of each handler's output only its first `BuildsPage.outputBytes`.
public enum StatusPage {
    public static let buildLimit = 50

    public static func html(settings: Settings, now: Int = Clock.milliseconds(), notice: String? = nil) throws(StorageError) -> String {
        let stored = try Spool(root: settings.spool).storedBuilds(newest: buildLimit, outputHead: BuildsPage.outputBytes)
        let rows = BuildReport.rows(stored, now: now, stalledAfterSeconds: settings.stalledAfterSeconds, limit: buildLimit)
        return BuildsPage.html(rows, now: now, shownAtMost: buildLimit, notice: notice)
    }
}
