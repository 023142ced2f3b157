/// One row of `pixelhook builds`: a build (projectId + uploadId), the events stored for it
/// with their times, how it ended, and what each handler did.
///
/// ```swift
/// let rows = BuildReport.rows(storedBuilds, now: nowMs, stalledAfterSeconds: settings.stalledAfterSeconds)
/// print(BuildReport.table(rows))   // or BuildReport.json(rows)
/// ```
public struct BuildReport: Sendable, Equatable {
    public enum Outcome: String, Sendable, Equatable {
        /// `build.approved` was received.
        case approved
        /// `build.rejected` was received (with its `objection`).
        case rejected
        /// Neither yet, and an event came within `PIXELHOOK_STALLED_AFTER`.
        case inProgress = "in_progress"
        /// Neither, and no event for longer than `PIXELHOOK_STALLED_AFTER`.
        case stalled
        /// Only `webhook.test` deliveries: the dashboard's Test button, not a build.
        case test
    }

    /// One stored event of the build.
    public struct Stage: Sendable, Equatable {
        public var event: String
        /// `PROJECT/BUILD/EVENT`, the delivery's `PIXELHOOK_DELIVERY`.
        public var delivery: String
        /// The payload's `status` and `timestamp` as sent; nil if the stored payload no longer
        /// parses.
        public var status: String?
        public var timestamp: String?
        /// When pixelhook stored it, milliseconds since the epoch.
        public var receivedAt: Int
        /// Time since the previous stage of this build (by the payloads' timestamps, or by
        /// receipt when a timestamp is missing); nil for the first.
        public var sincePreviousMs: Int?
        /// nil: pending (no result yet).
        public var result: HandlerResult?
        /// The start of the handler's output as stored (see `StoredBuild.Entry.outputHead`).
        public var outputHead: [UInt8]?
        /// Cluster mode: which hosts stored it and which ran it; nil on one host.
        public var hosts: DeliveryHosts? = nil
    }

    public var projectId: String
    /// nil for the events sent before an upload existed (`uploadId: null`), kept together.
    public var uploadId: String?
    public var outcome: Outcome
    /// The rejection's reason, from `build.rejected`.
    public var objection: String?
    /// A handler of this build is running now (its lock is held).
    public var isRunning: Bool
    public var firstReceivedAt: Int
    public var lastReceivedAt: Int
    /// Pipeline order (uploaded … approved, rejected), then anything else; ties in arrival order.
    public var stages: [Stage]

    /// The rows for `builds`, newest first (by the last event received), optionally only
    /// those of `projectId`, at most `limit` of them.
    public static func rows(
        _ builds: [StoredBuild], now: Int, stalledAfterSeconds: Int, projectId: String? = nil, limit: Int? = nil
    ) -> [BuildReport] {
        let rows = builds.filter { !$0.entries.isEmpty }
            .map { BuildReport($0, now: now, stalledAfterSeconds: stalledAfterSeconds) }
            .filter { projectId == nil || $0.projectId == projectId }
            .sorted {
                ($1.lastReceivedAt, $0.projectId, $0.uploadId ?? "") < ($0.lastReceivedAt, $1.projectId, $1.uploadId ?? "")
            }
        return limit.map { Array(rows.prefix($0)) } ?? rows
    }

    /// - Precondition: `build.entries` is not empty.
    public init(_ build: StoredBuild, now: Int, stalledAfterSeconds: Int) {
        let parsed = build.entries.map { (entry: $0, envelope: try? EnvelopeParser.parse($0.body)) }
        let envelope = parsed.lazy.compactMap(\.envelope).first
        projectId = envelope?.projectId ?? build.id.project
        uploadId = envelope.map(\.uploadId) ?? (build.id.build == DeliveryKey.noUpload ? nil : build.id.build)
        isRunning = build.isLocked
        firstReceivedAt = build.entries.map(\.receivedAt).min() ?? 0
        lastReceivedAt = build.entries.map(\.receivedAt).max() ?? 0

        let ordered = parsed.enumerated().sorted {
            (BuildReport.rank($0.element), $0.offset) < (BuildReport.rank($1.element), $1.offset)
        }.map(\.element)
        var stages: [Stage] = []
        var previous: (timestamp: Int?, receivedAt: Int)?
        for (entry, envelope) in ordered {
            let timestamp = envelope.flatMap { EpochTime.milliseconds(iso8601: $0.timestamp) }
            var gap: Int?
            if let previous {
                if let timestamp, let before = previous.timestamp {
                    gap = timestamp - before
                } else {
                    gap = entry.receivedAt - previous.receivedAt
                }
            }
            previous = (timestamp, entry.receivedAt)
            stages.append(Stage(
                event: envelope?.event ?? BuildReport.eventName(ofSegment: entry.name),
                delivery: "\(build.id)/\(entry.name)", status: envelope?.status, timestamp: envelope?.timestamp,
                receivedAt: entry.receivedAt, sincePreviousMs: gap, result: entry.result,
                outputHead: entry.outputHead, hosts: entry.hosts))
        }
        self.stages = stages

        let events = Set(stages.map(\.event))
        objection = nil
        if events.contains(Pipeline.rejected.event) {
            outcome = .rejected
            objection = parsed.lazy.compactMap(\.envelope).first { $0.event == Pipeline.rejected.event }?.objection
        } else if events.contains(Pipeline.approved.event) {
            outcome = .approved
        } else if events.allSatisfy({ $0 == Event.test }) {
            outcome = .test
        } else if now - lastReceivedAt > stalledAfterSeconds * 1000 {
            outcome = .stalled
        } else {
            outcome = .inProgress
        }
    }

    /// Where an event sorts among a build's stages: its place in the pipeline, unknown last.
    static func rank(_ item: (entry: StoredBuild.Entry, envelope: Envelope?)) -> Int {
        let event = item.envelope?.event ?? eventName(ofSegment: item.entry.name)
        return Event.pipeline.firstIndex(of: event) ?? Event.pipeline.count
    }

    /// The event name in a payload's file name (`webhook.test~NONCE` → `webhook.test`).
    static func eventName(ofSegment name: String) -> String {
        let event = name.prefix { $0 != "~" }
        return event.isEmpty ? name : String(event)
    }
}
