/// Which `PIXELHOOK_*` parameters of one FastCGI request may override the responder's own
/// settings (SPEC "Settings").
///
/// Decided once at start from where the responder listens and what the operator allowed:
/// on a unix socket the socket's owner and mode decide who connects, so overrides apply; on
/// TCP any local user can connect, so they apply only if the operator opted in. Paths are
/// stricter still: `PIXELHOOK_SPOOL`, `PIXELHOOK_HANDLERS` and `PIXELHOOK_CONFIG` may only
/// name a value allowed at start, so no socket client chooses what runs or where it is stored.
///
/// ```swift
/// let policy = ParameterOverridePolicy(appliesOverrides: true, allowedPaths: [Settings.Key.spool: ["/srv/a"]])
/// policy.decide(["PIXELHOOK_SPOOL": "/tmp/x"])   // .refuse(...)
/// ```
public struct ParameterOverridePolicy: Sendable, Equatable {
    /// The settings that name a path, with the start option that allows another value.
    public static let pathOptions = [
        Settings.Key.spool: "--allow-spool",
        Settings.Key.handlers: "--allow-handlers",
        Settings.Key.config: "--allow-config",
    ]

    /// False on TCP without the operator's opt-in: every override is ignored.
    public let appliesOverrides: Bool
    /// Per path setting, the values a request may name (the responder's own among them).
    public let allowedPaths: [String: Set<String>]

    public init(appliesOverrides: Bool, allowedPaths: [String: Set<String>]) {
        self.appliesOverrides = appliesOverrides
        var normalized: [String: Set<String>] = [:]
        for (key, values) in allowedPaths { normalized[key] = Set(values.map { ParameterOverridePolicy.effective(key, $0) }) }
        self.allowedPaths = normalized
    }

    public enum Decision: Sendable, Equatable {
        /// Serve the request with these overrides (possibly none).
        case apply([String: String])
        /// Serve it with the responder's own settings; these parameters were dropped.
        case ignore(names: [String])
        /// Do not serve it with these settings: the sentence for the operator.
        case refuse(String)
    }

    /// - Parameter overrides: the request's `PIXELHOOK_*` parameters.
    public func decide(_ overrides: [String: String]) -> Decision {
        guard !overrides.isEmpty else { return .apply([:]) }
        guard appliesOverrides else { return .ignore(names: overrides.keys.sorted()) }
        for (key, option) in ParameterOverridePolicy.pathOptions.sorted(by: { $0.key < $1.key }) {
            guard let value = overrides[key] else { continue }
            guard allowedPaths[key]?.contains(ParameterOverridePolicy.effective(key, value)) != true else { continue }
            let shown = value.isEmpty ? "an empty \(key)" : "\(key)=\(value)"
            return .refuse("the web server sent \(shown), which this responder was not started to allow; "
                + "start it with \(option) \(value.isEmpty ? "PATH" : value), or remove the parameter")
        }
        return .apply(overrides)
    }

    /// The value a path setting ends up as, which is what must be allowed: `Settings` trims
    /// the spool and handlers and takes an empty one as the default; the config path is read
    /// as it is (empty: no file).
    static func effective(_ key: String, _ value: String) -> String {
        guard key != Settings.Key.config else { return value }
        let trimmed = value.trimmingWhitespace()
        guard trimmed.isEmpty else { return trimmed }
        return key == Settings.Key.spool ? Settings().spool : Settings().handlers
    }
}
