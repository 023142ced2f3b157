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

            Exit status: 0; 74 if there is no spool or it cannot be read; 77 if root cannot \
            become the spool's owner; 78 if the settings are invalid; 64 for bad arguments.
            """
    )

    @OptionGroup var settings: SettingsOptions

    func run() throws {
        let settings = try settings.loadExistingSpool()
        StandardOutput.write(SpoolMetrics(spool: Spool(root: settings.spool)).collect().exposition, to: 1)
    }
}
