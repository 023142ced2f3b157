import ArgumentParser
import PixelhookCore
import PixelhookRuntime

/// `pixelhook show DELIVERY`: one stored delivery, its handler's result and output (SPEC
/// "Commands"), so that nobody has to dig in the spool as root.
struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show one delivery: its payload, its handler's result, and the handler's output.",
        discussion: """
            DELIVERY is the id `pixelhook builds --json` prints and handlers get in \
            PIXELHOOK_DELIVERY: PROJECT/BUILD/EVENT, such as \
            664f1a2b3c4d5e6f7a8b9c0d/u1/build.approved.

            Prints when the payload was stored and the payload itself; then the handler's \
            last result, every field of it (state: done, failed, timeout, retry, gave up; the handler \
            run, its exit status or signal, when it started, how long it took, the attempts \
            made where recorded, and why), or that there is none yet (queued, running, or its \
            runner died: `pixelhook retry` runs it); then what the handler printed (stdout and \
            stderr together, the first 64 KiB).

            Cluster mode (PIXELHOOK_CLUSTER set): the cluster's copy, whichever host stored it: \
            which host stored it first (and which also did: duplicates, run nothing), which \
            ran it and when, its payload and result from PostgreSQL, its output when this host \
            ran it (else which host has it), and this host's own copy's state (handed over, a \
            duplicate, or not handed over yet). With PostgreSQL unreachable: this host's copy \
            as above, one line on stderr saying so, exit 69.

            Exit status: 0; 64 for an id that is not of that shape (nothing is looked up); 65 \
            when the spool (in cluster mode: nor the cluster) holds no such delivery; 69 in \
            cluster mode when PostgreSQL or pixelhook-cluster cannot be reached; 74 if there \
            is no spool or it cannot be read; 77 if root cannot become the spool's owner; 78 if \
            the settings are invalid.
            """
    )

    @OptionGroup var settings: SettingsOptions

    @Argument(help: ArgumentHelp("The delivery's id, PROJECT/BUILD/EVENT.", valueName: "delivery"))
    var delivery: String

    func validate() throws {
        guard DeliveryKey(id: delivery) != nil else {
            throw ValidationError("not a delivery id: \(Pixelhook.oneLine(String(delivery.prefix(200)))) (expected PROJECT/BUILD/EVENT as `pixelhook builds --json` prints it)")
        }
    }

    func run() throws {
        let settings = try settings.loadExistingSpool()
        let key = DeliveryKey(id: delivery)!
        if settings.cluster != nil {
            // The cluster's copy, whichever host stored or ran it, and this host's copy with
            // it: `pixelhook-cluster show-view` (docs/cluster.md). Returns only if it could not start.
            let problem = ClusterHelper.exec(["show-view", key.id], settings: settings)
            StandardOutput.write("pixelhook: \(problem): this host's copy only, not the cluster's\n", to: 2)
            try Show.local(key, settings: settings)
            throw ExitCode(.unavailable)
        }
        try Show.local(key, settings: settings)
    }

    /// This host's copy, as one host shows it.
    static func local(_ key: DeliveryKey, settings: Settings) throws {
        switch DeliveryText.local(key, spool: Spool(root: settings.spool)) {
        case .success(let text): StandardOutput.write(text, to: 1)
        case .failure(.missing(let message)): throw CommandFailure(.invalid, message)
        case .failure(.unreadable(let message)): throw CommandFailure(.storage, message)
        }
    }
}
