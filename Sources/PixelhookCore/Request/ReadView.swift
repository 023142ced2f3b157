/// The read-only views served on `GET ?view=NAME` (SPEC "Metrics and the status page"), opened
/// by `PIXELHOOK_READ_TOKEN` only. Adding a view: a case here, and its page in
/// `PixelhookRuntime.ReadViews.render`.
public enum ReadView: String, Sendable, CaseIterable {
    /// Prometheus text format 0.0.4 (`Metrics`).
    case metrics
    /// The status page: the builds as HTML.
    case builds

    /// The gate for a `GET ?view=NAME`, in this order: settings invalid → 500; no read token
    /// configured → 404 (the views are off); token missing or wrong → 401; an unknown view →
    /// 404 (asked only of those who hold the token, so a stranger learns no view names).
    /// The token may come as `?token=` or `Authorization: Bearer`; every candidate is compared
    /// in constant time. `PIXELHOOK_TOKEN` (the sender's) is never one of them.
    public static func gate(
        named name: String, _ head: RequestHead, settings: Result<Settings, SettingsError>
    ) -> Result<ReadView, ReceiveError> {
        guard case .success(let valid) = settings else {
            return .failure(ReceiveError(.configuration, Triage.settingsInvalid))
        }
        guard let readToken = valid.readToken else {
            return .failure(ReceiveError(.notFound, "the read views are off: \(Settings.Key.readToken) is not set"))
        }
        var candidates = head.queryParameterReadings("token") ?? []
        if let bearer = head.bearerToken { candidates.append(bearer) }
        guard !candidates.isEmpty else {
            return .failure(ReceiveError(.unauthorized, "missing read token: ?token= or Authorization: Bearer"))
        }
        // Every candidate is compared, so the time taken does not tell which one matched.
        let matches = candidates.map { ConstantTime.equals($0, readToken) }
        guard matches.contains(true) else { return .failure(ReceiveError(.unauthorized, "wrong read token")) }
        guard let view = ReadView(rawValue: name) else {
            let known = ReadView.allCases.map(\.rawValue).joined(separator: ", ")
            return .failure(ReceiveError(.notFound, "no view \(EnvelopeParser.cut(name)); there are: \(known)"))
        }
        return .success(view)
    }
}
