/// The event names Streampixel documents, in pipeline order, plus the dashboard's test event.
///
/// Events outside this list are acknowledged and logged, never stored: the sender may add new
/// ones at any time and a receiver must treat them as a no-op.
///
/// The names come from `Pipeline`, the one list of the sender's stages.
public enum Event {
    public static let test = Pipeline.test.event

    public static let pipeline: [String] = Pipeline.stages.map(\.event) + [Pipeline.rejected.event]

    public static let known: Set<String> = Set(pipeline + [test])

    public static func isKnown(_ name: String) -> Bool { known.contains(name) }
}
