import ArgumentParser
import PixelhookCore
import PixelhookRuntime

/// `pixelhook cluster …`: the cluster's commands, run by the `pixelhook-cluster` helper with
/// the settings read here (docs/cluster.md). libpq is in the helper only.
struct ClusterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Cluster mode on PostgreSQL (PIXELHOOK_CLUSTER): init, builds, show, metrics, push.",
        discussion: """
            Runs `pixelhook-cluster` with the settings (PIXELHOOK_* over the config file). \
            `pixelhook cluster init` creates or migrates the schema (idempotent); `builds` \
            lists the cluster's builds; `show PROJECT/BUILD/EVENT` says which host stored a \
            delivery and which ran it; `metrics` prints the cluster's state for Prometheus; \
            `push` hands this host's waiting deliveries over. \
            See docs/cluster.md.
            """
    )

    @OptionGroup var settings: SettingsOptions

    @Argument(parsing: .captureForPassthrough, help: "init | builds | show ID | metrics | push (see pixelhook-cluster --help)")
    var arguments: [String] = []

    func run() throws {
        let settings = try settings.load()
        guard settings.cluster != nil else {
            throw CommandFailure(.settings, "\(Settings.Key.cluster) is not set: cluster mode is off (docs/cluster.md)")
        }
        throw CommandFailure(.storage, ClusterHelper.exec(arguments, settings: settings))
    }
}
