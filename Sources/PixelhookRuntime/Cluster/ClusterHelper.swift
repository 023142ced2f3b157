#if canImport(Glibc)
import Glibc
#endif
import PixelhookCore

/// Where cluster mode hands over: `pixelhook-cluster`, a separate, dynamically linked program
/// (it links libpq, which the static one-shot `pixelhook` must not: docs/cluster.md). The
/// runner, `retry` and `pixelhook cluster …` replace themselves with it (`exec`), keeping their
/// descriptors (a runner's slot on fd 3); its environment is the settings already read (as a
/// runner's is: `DetachedQueueRunner.start`), so `--config` and the config file count.
public enum ClusterHelper {
    public static let name = "pixelhook-cluster"

    /// Beside the running `pixelhook` (they are installed together), else in the usual places.
    public static func path(executable: String = "/proc/self/exe") -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink(executable, &buffer, buffer.count - 1)
        var candidates: [String] = []
        if length > 0 {
            let own = String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if let slash = own.lastIndex(of: "/") { candidates.append(String(own[..<slash]) + "/" + name) }
        }
        candidates += ["/usr/local/bin/\(name)", "/usr/bin/\(name)"]
        return candidates.first { access($0, X_OK) == 0 }
    }

    /// Replaces this process with the helper running `arguments`; returns only if that failed,
    /// with the reason, which has also gone to `SPOOL/alarms.log` (a runner's stderr is
    /// /dev/null). The deliveries stay stored and pending: `retry` hands them over later.
    public static func exec(_ arguments: [String], settings: Settings) -> String {
        let spoolRoot = settings.spool
        guard let helper = path() else {
            let problem = "cluster mode (\(Settings.Key.cluster)) is on but \(name) is not installed beside pixelhook"
            AlarmLog.raise("pixelhook: \(problem); deliveries wait in the spool", spoolRoot: spoolRoot)
            return problem
        }
        let environment = ExecEnvironment.carrying(settings)
        let argv = ([name] + arguments).map { strdup($0) }
        let envp = environment.map { strdup($0) }
        defer { (argv + envp).forEach { free($0) } }
        var argvPointers: [UnsafeMutablePointer<CChar>?] = argv + [nil]
        var envpPointers: [UnsafeMutablePointer<CChar>?] = envp + [nil]
        execve(helper, &argvPointers, &envpPointers)
        let problem = "cannot start \(helper): \(String(cString: strerror(errno)))"
        AlarmLog.raise("pixelhook: \(problem); deliveries wait in the spool", spoolRoot: spoolRoot)
        return problem
    }
}
