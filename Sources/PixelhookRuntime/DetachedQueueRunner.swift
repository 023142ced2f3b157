#if canImport(Glibc)
import Glibc
#endif
import CPosix
import PixelhookCore

/// Starts `pixelhook run-queue` for a build as a process of its own (new session, stdio on
/// /dev/null), so the request's process can exit, or go on serving, at once: the web server
/// sees the response end whatever the handler does. The runner exits when the build's queue is
/// empty, so nothing outlives the handler.
public enum DetachedQueueRunner {
    /// The hidden subcommand the runner is started as; `pixelhook` must provide it.
    public static let subcommand = "run-queue"

    public static func start(_ followUp: Receiver.FollowUp, executable: String = "/proc/self/exe") -> Int32 {
        let argv = ["pixelhook", subcommand, followUp.key.id]
        let environment = followUp.settings.variables.map { "\($0.key)=\($0.value)" }
            + ["PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8"]
        var pid: pid_t = 0
        return withCStrings(argv) { argv in
            withCStrings(environment) { envp in
                pixelhook_spawn_detached(&pid, executable, argv, envp)
            }
        }
    }

    /// Parses the `PROJECT/BUILD/EVENT` id a runner was started with; nil if it could escape
    /// the spool (only segments `DeliveryKey` produces are accepted).
    public static func key(fromID id: String) -> DeliveryKey? {
        let parts = id.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty && !$0.hasPrefix(".") && !$0.contains("\0") }) else { return nil }
        return DeliveryKey(project: parts[0], build: parts[1], event: parts[2])
    }
}
