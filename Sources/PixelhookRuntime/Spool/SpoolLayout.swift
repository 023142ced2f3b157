import PixelhookCore

/// Every path and file name in the spool, in one place: the spool code, the commands and the
/// tests name the spool's files through this type, so a name changes in one edit.
///
/// ```
/// SPOOL/requests.log                          one JSON line per request (requests.log.1: rotated)
/// SPOOL/alarms.log                            every alarm raised, one line each
/// SPOOL/metrics.checkpoint                    the metrics' totals up to an offset of requests.log
/// SPOOL/retry.lock                            flock'd while `pixelhook retry` sweeps
/// SPOOL/runners/N                             flock'd while a queue runner is active
/// SPOOL/pending/PROJECT:BUILD                 builds with deliveries no runner has claimed yet
/// SPOOL/unfinished/PROJECT:BUILD              builds that may hold a delivery not done (+ .complete)
/// SPOOL/gave-up/PROJECT:BUILD                 builds holding a delivery that gave up (retry limit)
/// SPOOL/deliveries/PROJECT/BUILD/.lock        flock'd while this build's handlers run
/// SPOOL/deliveries/PROJECT/BUILD/.arrivals    event names in arrival order, one a line
/// SPOOL/deliveries/PROJECT/BUILD/.tmp-NONCE   a payload being written, before it has its name
/// SPOOL/deliveries/PROJECT/BUILD/EVENT.json   the raw body; its existence is the dedup marker
/// SPOOL/deliveries/PROJECT/BUILD/EVENT.result the handler's outcome (JSON; .result.tmp while written)
/// SPOOL/deliveries/PROJECT/BUILD/EVENT.output the handler's output, capped
/// SPOOL/deliveries/PROJECT/BUILD/EVENT.running who runs the handler now
/// ```
public struct SpoolLayout: Sendable, Equatable {
    public let root: String

    public init(root: String) { self.root = root }

    public var deliveries: String { root + "/deliveries" }
    public var runners: String { root + "/runners" }
    public var pending: String { root + "/pending" }
    public var unfinished: String { root + "/unfinished" }
    public var gaveUp: String { root + "/gave-up" }
    public var requestLog: String { root + "/requests.log" }
    /// Where `logrotate` (copy-less `rotate 1`) moved the previous request log.
    public var rotatedRequestLog: String { requestLog + ".1" }
    public var alarmLog: String { root + "/alarms.log" }
    public var metricsCheckpoint: String { root + "/metrics.checkpoint" }
    /// The `mkstemp` template of a checkpoint being written, renamed over `metricsCheckpoint`
    /// (unique per writer: the FastCGI responder's threads share one pid).
    public var metricsCheckpointTemplate: String { "\(metricsCheckpoint).XXXXXX" }
    public var retryLock: String { root + "/retry.lock" }

    public func projectDirectory(_ project: String) -> String { "\(deliveries)/\(project)" }
    public func buildDirectory(_ build: BuildID) -> String { "\(deliveries)/\(build.project)/\(build.build)" }
    public func buildDirectory(_ key: DeliveryKey) -> String { "\(deliveries)/\(key.project)/\(key.build)" }
    public func payloadPath(_ key: DeliveryKey) -> String { "\(buildDirectory(key))/\(SpoolLayout.payloadName(event: key.event))" }
    public func companionPath(_ key: DeliveryKey, _ companion: Companion) -> String {
        "\(buildDirectory(key))/\(SpoolLayout.companionName(event: key.event, companion))"
    }
    public func pendingEntry(_ build: BuildID) -> String { "\(pending)/\(SpoolLayout.listEntryName(build))" }
    public func unfinishedEntry(_ build: BuildID) -> String { "\(unfinished)/\(SpoolLayout.listEntryName(build))" }

    // MARK: In a build directory

    public static let lockName = ".lock"
    public static let arrivalsName = ".arrivals"
    public static let temporaryPrefix = ".tmp-"

    public static func lockPath(in buildDirectory: String) -> String { "\(buildDirectory)/\(lockName)" }
    public static func arrivalsPath(in buildDirectory: String) -> String { "\(buildDirectory)/\(arrivalsName)" }

    // MARK: The lists (`pending/`, `unfinished/`)

    /// Between PROJECT and BUILD in a list entry: ':' is in no segment `DeliveryKey` produces,
    /// so the name splits back unambiguously.
    public static let listSeparator: Character = ":"
    /// In `unfinished/`: the boot id of the last sweep that read the list complete.
    public static let completeName = ".complete"

    public static func listEntryName(_ build: BuildID) -> String { "\(build.project)\(listSeparator)\(build.build)" }

    // MARK: One delivery's files, `EVENT.json` and its companions

    public static let payloadSuffix = ".json"

    /// The files that sit beside a payload and go with it.
    public enum Companion: String, Sendable, CaseIterable {
        case result = ".result"
        case resultTemporary = ".result.tmp"
        case output = ".output"
        case running = ".running"
    }

    public static func payloadName(event: String) -> String { event + payloadSuffix }
    public static func companionName(event: String, _ companion: Companion) -> String { event + companion.rawValue }

    /// The EVENT of a payload's name `EVENT.json`; nil for any other name, and for hidden ones.
    public static func event(ofPayload name: String) -> String? {
        guard name.hasSuffix(payloadSuffix), !name.hasPrefix(".") else { return nil }
        return String(name.dropLast(payloadSuffix.count))
    }

    /// The EVENT of a companion's name (`EVENT.result`, `.result.tmp`, `.output`, `.running`);
    /// nil for any other name. The longest suffix is tried first.
    public static func event(ofCompanion name: String, _ kinds: [Companion] = [.resultTemporary, .result, .output, .running]) -> String? {
        guard !name.hasPrefix(".") else { return nil }
        for kind in kinds where name.hasSuffix(kind.rawValue) { return String(name.dropLast(kind.rawValue.count)) }
        return nil
    }
}
