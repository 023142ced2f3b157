/// Streampixel's build pipeline as the sender runs it: each stage's event and the raw status
/// string it carries (seeds, "Events"), and where a rejection may end it.
///
/// ```swift
/// Pipeline.run(rejectingAt: Pipeline.stage(named: "extracting")).map(\.event)
/// // ["build.uploaded", "build.downloading", "build.extracting", "build.rejected"]
/// ```
public enum Pipeline {
    /// One step of the pipeline: the event it fires and the status at trigger.
    public struct Stage: Sendable, Equatable, CustomStringConvertible {
        public let event: String
        public let status: String

        public init(event: String, status: String) {
            self.event = event
            self.status = status
        }

        /// The event name without its `build.` prefix (`extracting`).
        public var name: String {
            event.hasPrefix(Pipeline.prefix) ? String(event.dropFirst(Pipeline.prefix.count)) : event
        }

        public var description: String { event }
    }

    static let prefix = "build."

    /// The stages a successful build goes through, in order, ending with `build.approved`.
    public static let stages: [Stage] = [
        Stage(event: "build.uploaded", status: "pending"),
        Stage(event: "build.downloading", status: "Downloading Files"),
        Stage(event: "build.extracting", status: "Extracting & Scanning"),
        Stage(event: "build.saving", status: "Saving to Repository"),
        Stage(event: "build.distributing", status: "Distribute"),
        approved,
    ]

    /// The end of a build that passed: it is live.
    public static let approved = Stage(event: "build.approved", status: "Approved")

    /// The end of a build that failed validation; carries an `objection`.
    public static let rejected = Stage(event: "build.rejected", status: "Reject")

    /// The dashboard's Test button (and the Test Webhook API).
    public static let test = Stage(event: "webhook.test", status: "test")

    /// The stages a rejection may follow: every one before `build.approved` (an approved build
    /// is live; nothing fires after it).
    public static var rejectable: [Stage] { Array(stages.dropLast()) }

    /// The stage of a documented event (the pipeline's, `build.rejected` or `webhook.test`);
    /// `nil` for an event the sender does not document.
    public static func stage(ofEvent event: String) -> Stage? {
        (stages + [rejected, test]).first { $0.event == event }
    }

    /// The status string the sender puts on `event`, `nil` for an event it does not document.
    public static func status(of event: String) -> String? { stage(ofEvent: event)?.status }

    /// A rejectable stage by its name (`extracting`) or its event (`build.extracting`), in any
    /// letter case; `nil` for anything else.
    public static func stage(named text: String) -> Stage? {
        let wanted = text.lowercased()
        return rejectable.first { $0.event == wanted || $0.name == wanted }
    }

    /// One build's stages in sending order: every stage through `build.approved`, or, when
    /// `stage` is given, the stages up to and including it followed by `rejected`. A stage that
    /// is not `rejectable` (see `stage(named:)`) rejects nothing.
    public static func run(rejectingAt stage: Stage? = nil) -> [Stage] {
        guard let stage, let index = rejectable.firstIndex(of: stage) else { return stages }
        return Array(stages[...index]) + [rejected]
    }
}
