/// pixelhook's settings, read from `PIXELHOOK_*` variables (see the settings table in docs/settings.md).
///
/// Parsing is pure: callers pass the variables (process environment, config file, FastCGI
/// parameters, merged in that order of precedence by `Settings.merge`).
public struct Settings: Sendable, Equatable {
    public var spool = "/var/spool/pixelhook"
    public var handlers = "/etc/pixelhook/handlers"
    /// `nil` when unset: every POST then answers 500 until the operator sets it.
    public var projectIDs: Set<String>?
    public var token: String?
    /// Opens `?view=metrics` and `?view=builds`; `nil`: both answer 404.
    public var readToken: String?
    /// `nil` means every event.
    public var events: Set<String>?
    public var maxBody = 65536
    public var handlerTimeoutSeconds = 600
    public var maxHandlers = 4
    /// Attempts, the first run counted, before `retry` gives a delivery up; 0: never.
    public var retryLimit = 10
    /// `pixelhook builds` calls a build stalled after this long without an event.
    public var stalledAfterSeconds = 3600
    /// A libpq connection string: cluster mode (docs/cluster.md); `nil`: one host, the spool alone.
    public var cluster: String?

    public init() {}

    public enum Key {
        public static let spool = "PIXELHOOK_SPOOL"
        public static let handlers = "PIXELHOOK_HANDLERS"
        public static let projectIDs = "PIXELHOOK_PROJECT_IDS"
        public static let token = "PIXELHOOK_TOKEN"
        public static let readToken = "PIXELHOOK_READ_TOKEN"
        public static let events = "PIXELHOOK_EVENTS"
        public static let maxBody = "PIXELHOOK_MAX_BODY"
        public static let handlerTimeout = "PIXELHOOK_HANDLER_TIMEOUT"
        public static let maxHandlers = "PIXELHOOK_MAX_HANDLERS"
        public static let retryLimit = "PIXELHOOK_RETRY_LIMIT"
        public static let stalledAfter = "PIXELHOOK_STALLED_AFTER"
        public static let config = "PIXELHOOK_CONFIG"
        public static let cluster = "PIXELHOOK_CLUSTER"

        public static let all: Set<String> = [
            spool, handlers, projectIDs, token, readToken, events, maxBody, handlerTimeout, maxHandlers, retryLimit,
            stalledAfter, config, cluster,
        ]
    }

    /// Reads the settings from variables; unrelated variables are ignored.
    public static func parse(_ variables: [String: String]) throws(SettingsError) -> Settings {
        var settings = Settings()
        if let spool = nonEmpty(variables[Key.spool]) {
            guard spool.hasPrefix("/") else { throw SettingsError("\(Key.spool) must be an absolute path, got \(spool)") }
            settings.spool = spool
        }
        if let handlers = nonEmpty(variables[Key.handlers]) {
            guard handlers.hasPrefix("/") else { throw SettingsError("\(Key.handlers) must be an absolute path, got \(handlers)") }
            settings.handlers = handlers
        }
        // A list with no entries (",") is unset, like an empty value.
        settings.projectIDs = nonEmpty(variables[Key.projectIDs]).map(list).flatMap { $0.isEmpty ? nil : $0 }
        settings.token = nonEmpty(variables[Key.token])
        settings.readToken = nonEmpty(variables[Key.readToken])
        settings.cluster = nonEmpty(variables[Key.cluster])
        settings.events = nonEmpty(variables[Key.events]).map(list).flatMap { $0.isEmpty ? nil : $0 }
        settings.maxBody = try integer(variables, Key.maxBody, default: settings.maxBody, range: 1...(64 << 20))
        settings.handlerTimeoutSeconds = try integer(
            variables, Key.handlerTimeout, default: settings.handlerTimeoutSeconds, range: 1...86_400)
        settings.maxHandlers = try integer(variables, Key.maxHandlers, default: settings.maxHandlers, range: 1...256)
        settings.retryLimit = try integer(variables, Key.retryLimit, default: settings.retryLimit, range: 0...1000)
        if let text = nonEmpty(variables[Key.stalledAfter]) {
            guard let seconds = DurationText.seconds(text) else {
                throw SettingsError("\(Key.stalledAfter) must be \(DurationText.expected), got \(text)")
            }
            settings.stalledAfterSeconds = seconds
        }
        return settings
    }

    /// The first of `PIXELHOOK_PROJECT_IDS` as written (`projectIDs` is a set, without order):
    /// the project `pixelhook simulate` posts for when given none.
    public static func firstProjectID(in variables: [String: String]) -> String? {
        nonEmpty(variables[Key.projectIDs]).map(items)?.first { !$0.isEmpty }
    }

    /// The first problem that makes every delivery fail, as the sentence an operator acts on.
    public var configurationProblem: String? {
        projectIDs == nil ? "\(Key.projectIDs) is not set" : nil
    }

    /// The settings written back as variables, to hand to a process pixelhook starts itself.
    public var variables: [String: String] {
        var out = [
            Key.spool: spool,
            Key.handlers: handlers,
            Key.maxBody: String(maxBody),
            Key.handlerTimeout: String(handlerTimeoutSeconds),
            Key.maxHandlers: String(maxHandlers),
            Key.retryLimit: String(retryLimit),
            Key.stalledAfter: "\(stalledAfterSeconds)s",
        ]
        if let projectIDs { out[Key.projectIDs] = projectIDs.sorted().joined(separator: ",") }
        if let token { out[Key.token] = token }
        if let readToken { out[Key.readToken] = readToken }
        if let cluster { out[Key.cluster] = cluster }
        if let events { out[Key.events] = events.sorted().joined(separator: ",") }
        return out
    }

    /// Later sources win: `merge(configFile, processEnvironment, requestParameters)`.
    public static func merge(_ sources: [String: String]...) -> [String: String] {
        var merged: [String: String] = [:]
        for source in sources {
            for (key, value) in source where key.hasPrefix("PIXELHOOK_") { merged[key] = value }
        }
        return merged
    }

    private static func nonEmpty(_ value: String?) -> String? {
        guard let value else { return nil }
        let trimmed = value.trimmingWhitespace()
        return trimmed.isEmpty ? nil : trimmed
    }

    private static func list(_ text: String) -> Set<String> {
        Set(items(text).filter { !$0.isEmpty })
    }

    /// Split at every comma byte: a comma followed by a combining mark is one `Character`,
    /// which `split` on characters would not split at. (UTF-8 bytes, not scalars: a comma
    /// byte is always a comma, and the scalar view's generic code cost a third of a CGI start.)
    private static func items(_ text: String) -> [String] {
        text.utf8.split(separator: UInt8(ascii: ",")).map { String(decoding: $0, as: UTF8.self).trimmingWhitespace() }
    }

    private static func integer(
        _ variables: [String: String], _ key: String, default fallback: Int, range: ClosedRange<Int>
    ) throws(SettingsError) -> Int {
        guard let text = nonEmpty(variables[key]) else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            throw SettingsError("\(key) must be a whole number from \(range.lowerBound) to \(range.upperBound), got \(text)")
        }
        return value
    }
}

/// Settings that cannot be used, with the one line an operator needs to fix them.
public struct SettingsError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    /// The spool the variables name (or the default), when the problem lies in another
    /// setting: the alarm about it can still be kept in `SPOOL/alarms.log`.
    public var spool: String?
    public init(_ message: String) { self.message = message }
    public var description: String { message }

    /// The same problem, wherever it was found.
    public static func == (left: SettingsError, right: SettingsError) -> Bool { left.message == right.message }
}

extension String {
    /// Trims spaces, tabs, CR and LF. Works on scalars: `"\r\n"` is one `Character`.
    func trimmingWhitespace() -> String {
        let isSpace: (Unicode.Scalar) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !isSpace($0) }),
              let last = scalars.lastIndex(where: { !isSpace($0) })
        else { return "" }
        return String(scalars[first...last])
    }
}
