/// Reading `requests.log` back: `pixelhook log` and `check`'s refusal counts.
extension RequestRecord {
    /// A logged line read back; nil for a line that is not one (torn by a crash, or foreign).
    public init?(line bytes: some Collection<UInt8>) {
        guard let members = JSONScanner.scalarMembers(Array(bytes)),
              case .string(let time)? = members["time"], case .integer(let status)? = members["status"],
              case .string(let outcome)? = members["outcome"]
        else { return nil }
        func string(_ name: String) -> String? {
            if case .string(let text)? = members[name] { return text }
            return nil
        }
        self.init(time: time, remoteAddress: string("remote") ?? "", method: string("method") ?? "",
                  status: status, envelope: nil, outcome: outcome)
        event = string("event")
        projectId = string("projectId")
        uploadId = string("uploadId")
    }

    /// Whether the request carried a delivery that was not stored: refused (4xx, 5xx) or
    /// ignored by `PIXELHOOK_EVENTS`. Health checks are not deliveries; a coalesced
    /// `webhook.test` and a duplicate were stored before, so nothing was lost.
    public var isRefused: Bool {
        guard outcome != "health", !outcome.hasPrefix("health ") else { return false }
        return status >= 400 || outcome.hasPrefix("ignored")
    }

    /// What `check` counts refusals by: the refusal's code (`unknown_project`, `unauthorized`,
    /// ...) or the whole `ignored: ...` sentence, without the operator's detail in parentheses.
    public var refusalReason: String {
        if outcome.hasPrefix("ignored") { return outcome }
        return outcome.firstIndex(of: ":").map { String(outcome[..<$0]) } ?? outcome
    }
}
