/// The event names Streampixel documents, in pipeline order, plus the dashboard's test event.
///
/// Events outside this list are acknowledged and logged, never stored: the sender may add new
/// ones at any time and a receiver must treat them as a no-op.
public enum Event {
    public static let test = "webhook.test"

    public static let pipeline: [String] = [
        "build.uploaded",
        "build.downloading",
        "build.extracting",
        "build.saving",
        "build.distributing",
        "build.approved",
        "build.rejected",
    ]

    public static let known: Set<String> = Set(pipeline + [test])

    public static func isKnown(_ name: String) -> Bool { known.contains(name) }
}
