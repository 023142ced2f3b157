import ArgumentParser
import PixelhookCore
import PixelhookRuntime

/// `pixelhook metrics`: what `GET ?view=metrics` answers, on stdout (SPEC "Commands").
struct MetricsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metrics",
        abstract: "Print the metrics in the Prometheus text format, for node_exporter's textfile collector.",
        discussion: """
            The same text as GET ?view=metrics: requests by status code, deliveries by event, \
            refusals by reason, deliveries by handler state (done, failed, retry, pending, \
            running, gave_up), when the last delivery and the last webhook.test came, and the \
            age of the oldest delivery still waiting. docs/metrics.md lists every family.

            Each run reads only the request-log lines written since the previous run (or scrape), \
            from SPOOL/metrics.checkpoint, and only the builds listed in pending/ and unfinished/. \
            For the textfile collector, write to a temporary name and rename it:

              pixelhook metrics > /var/lib/node_exporter/pixelhook.prom.$$ && \\
                mv /var/lib/node_exporter/pixelhook.prom.$$ /var/lib/node_exporter/pixelhook.prom

            Cluster mode (PIXELHOOK_CLUSTER set): after this host's families, the cluster's \
            from pixelhook-cluster (pixelhook_cluster_deliveries{state}, \
            pixelhook_cluster_oldest_waiting_seconds, pixelhook_cluster_expired_leases, \
            pixelhook_cluster_runs{host}) and pixelhook_cluster_up 1; when PostgreSQL or the \
            helper cannot answer, pixelhook_cluster_up 0, a line on stderr, and still exit 0. \
            The pixelhook_* families stay this host's (its intake); the cluster's runs are \
            pixelhook_cluster_*. Scrape the cluster families from one host only.

            Exit status: 0; 74 if there is no spool or it cannot be read; 77 if root cannot \
            become the spool's owner; 78 if the settings are invalid; 64 for bad arguments.
            """
    )

    @OptionGroup var settings: SettingsOptions

    func run() throws {
        let settings = try settings.loadExistingSpool()
        let local = SpoolMetrics(spool: Spool(root: settings.spool)).collect().exposition
        guard settings.cluster != nil else {
            StandardOutput.write(local, to: 1)
            return
        }
        // This host's families, then the cluster's, as GET ?view=metrics answers. Exit 0 even
        // when the cluster cannot be read: the textfile collector then still gets this host's
        // metrics and `pixelhook_cluster_up 0` to alert on; stderr says why.
        let (text, problem) = ClusterReadViews.metrics(settings: settings, local: local)
        StandardOutput.write(text, to: 1)
        if let problem { StandardOutput.write("pixelhook: \(problem): pixelhook_cluster_up 0, this host's metrics only\n", to: 2) }
    }
}
