/// Cluster mode (docs/cluster.md): which hosts stored a delivery and which ran it, as
/// `pixelhook builds` and `show` say it. A host is named `HOSTNAME:SPOOL`.
///
/// ```swift
/// DeliveryHosts(storedBy: "a:/var/spool/pixelhook", ranBy: "b:/var/spool/pixelhook")
/// ```
public struct DeliveryHosts: Sendable, Equatable {
    /// The host whose copy the cluster keeps: the first to hand it over (or, not handed over
    /// yet, the host whose spool holds it).
    public var storedBy: String
    /// Other hosts that stored the same event: duplicates, they ran nothing.
    public var alsoStoredBy: [String]
    /// The host whose run of it ended last; nil when no run has ended.
    public var ranBy: String?
    /// The host running it now; nil when none is.
    public var runningOn: String?
    /// false: only in `storedBy`'s spool so far; the next runner or `retry` there hands it over.
    public var inCluster: Bool

    public init(storedBy: String, alsoStoredBy: [String] = [], ranBy: String? = nil, runningOn: String? = nil, inCluster: Bool = true) {
        self.storedBy = storedBy
        self.alsoStoredBy = alsoStoredBy
        self.ranBy = ranBy
        self.runningOn = runningOn
        self.inCluster = inCluster
    }

    /// `--json`'s EVENT `cluster` object.
    public var json: JSONObject {
        JSONObject()
            .string("storedBy", storedBy)
            .strings("alsoStoredBy", alsoStoredBy)
            .string("ranBy", ranBy)
            .string("runningOn", runningOn)
            .bool("handedOver", inCluster)
    }

    /// The table's `stored by` cell: `HOST`, `HOST +1 duplicate`, `HOST (not handed over yet)`.
    public var storedText: String {
        var text = storedBy
        if !alsoStoredBy.isEmpty { text += " +\(alsoStoredBy.count) duplicate\(alsoStoredBy.count == 1 ? "" : "s")" }
        if !inCluster { text += " (not handed over yet)" }
        return text
    }

    /// The table's `ran by` cell: `running on HOST`, `HOST`, or `-`.
    public var ranText: String {
        runningOn.map { "running on \($0)" } ?? ranBy ?? "-"
    }
}
