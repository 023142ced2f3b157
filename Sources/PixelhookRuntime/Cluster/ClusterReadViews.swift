#if canImport(Glibc)
import Glibc
#endif
import CPosix
import PixelhookCore

/// `GET ?view=metrics`, `?view=builds` and `pixelhook metrics` in cluster mode. The gateway is
/// the static `pixelhook`, which must not link libpq (docs/cluster.md), so for these read views
/// only it starts `pixelhook-cluster` (`metrics-view`, `status-view`) and reads what it prints:
/// a POST never does. The helper ends a complete answer with `completeLine`, which is how its
/// success is told even where its exit status cannot be read (the FastCGI responder ignores
/// SIGCHLD, so its children are reaped by the kernel).
public enum ClusterReadViews {
    /// The last line of a helper view's complete output; taken off before use.
    public static let completeLine = "# pixelhook-cluster: complete\n"
    /// The helper may take PGCONNECT_TIMEOUT (5 s) to find PostgreSQL unreachable; past this, the view goes on without it.
    public static let timeoutMilliseconds = 8000
    static let outputLimit = 16 << 20

    /// The metrics of this host's spool, then the cluster's (`pixelhook_cluster_*`, with
    /// `pixelhook_cluster_up 1`), or `pixelhook_cluster_up 0` and why on stderr when the helper
    /// or PostgreSQL cannot answer.
    public static func metrics(settings: Settings, local: String) -> (text: String, problem: String?) {
        switch helperOutput(["metrics-view"], settings: settings) {
        case .success(let cluster):
            return (local + cluster, nil)
        case .failure(let problem):
            return (local + upFamily + "pixelhook_cluster_up 0\n", problem.message)
        }
    }

    /// `pixelhook_cluster_up`'s HELP and TYPE lines; the helper prints the sample 1.
    public static let upFamily = """
        # HELP pixelhook_cluster_up Whether this host's pixelhook-cluster could read the cluster's state from PostgreSQL (1) or not (0).
        # TYPE pixelhook_cluster_up gauge

        """

    /// The status page of the whole cluster (`pixelhook-cluster status-view`), or why not.
    public static func buildsPage(settings: Settings) -> Result<String, Problem> {
        helperOutput(["status-view"], settings: settings)
    }

    public struct Problem: Error {
        public let message: String
    }

    /// Runs the helper with the settings as its environment (as `ClusterHelper.exec` does) and
    /// returns its output without `completeLine`, or why it gave none complete.
    static func helperOutput(_ arguments: [String], settings: Settings) -> Result<String, Problem> {
        guard let helper = ClusterHelper.path() else {
            return .failure(Problem(message: "\(ClusterHelper.name) is not installed beside pixelhook"))
        }
        var fds: [Int32] = [-1, -1]
        guard pixelhook_pipe_cloexec(&fds) == 0 else { return .failure(Problem(message: "pipe: \(String(cString: strerror(errno)))")) }
        let environment = ExecEnvironment.carrying(settings)
        var pid: pid_t = 0
        let spawned = withCStrings([ClusterHelper.name] + arguments) { argv in
            withCStrings(environment) { envp in pixelhook_spawn_reader(&pid, helper, argv, envp, fds[1]) }
        }
        close(fds[1])
        defer { close(fds[0]) }
        guard spawned == 0 else { return .failure(Problem(message: "cannot start \(helper): \(String(cString: strerror(spawned)))")) }
        let output = readAll(fds[0], pid: pid)
        var code: Int32 = 0, signal: Int32 = 0
        _ = pixelhook_reap(pid, &code, &signal)  // ECHILD under the FastCGI responder: the kernel reaped it
        guard let output else { return .failure(Problem(message: "\(ClusterHelper.name) \(arguments[0]) took longer than \(timeoutMilliseconds / 1000) s")) }
        let text = String(decoding: output, as: UTF8.self)
        guard text.hasSuffix(completeLine) else {
            return .failure(Problem(message: "\(ClusterHelper.name) \(arguments[0]) could not read the cluster (PostgreSQL unreachable? `pixelhook cluster metrics` says why)"))
        }
        return .success(String(text.dropLast(completeLine.count)))
    }

    /// Everything the child writes until it closes its end, or nil past the deadline (its
    /// process group is then killed).
    private static func readAll(_ fd: Int32, pid: pid_t) -> [UInt8]? {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        let start = Syscalls.monotonicSeconds()
        while true {
            let elapsed = Int((Syscalls.monotonicSeconds() - start) * 1000)
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = elapsed < timeoutMilliseconds ? poll(&poller, 1, Int32(timeoutMilliseconds - elapsed)) : 0
            if ready < 0, errno == EINTR { continue }
            guard ready > 0, bytes.count < outputLimit else {
                kill(-pid, SIGKILL)
                return nil
            }
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            if count <= 0 { return bytes }
            bytes += buffer[..<count]
        }
    }
}
