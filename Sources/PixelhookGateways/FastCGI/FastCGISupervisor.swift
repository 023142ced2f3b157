#if canImport(Glibc)
import Glibc
#endif
import PixelhookCore
import PixelhookRuntime
import Synchronization

/// `pixelhook fastcgi` as a small parent over the process that serves: a responder that dies
/// anyway (a libfcgi fault the record check does not cover, the OOM killer, a stray `kill`)
/// does not take every later delivery with it.
///
/// The parent keeps the listening socket, so while a new responder starts, connections wait in
/// the socket's backlog (no 502, the socket file stays valid); it runs the responder as
/// `/proc/self/exe` with the listener as fd 0, its own arguments and `--supervised`, and starts
/// a new one whenever it ends unasked (an alarm line on stderr; after deaths in quick
/// succession it waits, from 0.5 s doubling up to 5 s). On SIGTERM or SIGINT it removes the
/// socket file it created, passes the signal on, waits for the responder to finish the queued
/// and in-flight requests, and exits 0.
package enum FastCGISupervisor {
    /// The hidden option that makes `pixelhook fastcgi` serve fd 0 itself.
    package static let supervisedFlag = "--supervised"
    private static let stopSignal = Atomic<Int32>(0)
    private static let childPID = Atomic<Int32>(0)
    /// A responder that lived this long before dying is restarted at once: one killed by a bad
    /// request (or an operator) must cost no more than its own connections. Only one that dies
    /// sooner, again and again (a start that cannot succeed), is restarted after a pause.
    private static let healthyLifetime = 1.0

    /// `pixelhook` started with no command on a listening socket (fd 0): the trust rules are
    /// checked here, where a refusal can still be one line and exit 64 (the supervised
    /// responder applies the same rules), then `run` as `pixelhook fastcgi`.
    package static func runBare() -> Int32 {
        do {
            _ = try FastCGITrust(listener: 0, rules: .init(), processEnvironment: ProcessEnvironment.current())
        } catch {
            StandardOutput.write("pixelhook: \(error) (start it as 'pixelhook fastcgi' with the options of 'pixelhook fastcgi --help')\n", to: 2)
            return ExitStatus.usage.rawValue
        }
        return run(listener: 0, arguments: ["fastcgi"], socketPath: nil)
    }

    /// - Parameters:
    ///   - arguments: the responder's arguments after the program name (`supervisedFlag` is added).
    ///   - socketPath: the unix socket file the parent created, removed on SIGTERM.
    package static func run(listener: Int32, arguments: [String], socketPath: String?) -> Int32 {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { signal in
            FastCGISupervisor.stopSignal.store(signal, ordering: .relaxed)
            let child = FastCGISupervisor.childPID.load(ordering: .relaxed)
            if child > 0 { kill(child, signal) }
        }
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0  // no SA_RESTART: waitpid and nanosleep return at the signal
        sigaction(SIGTERM, &action, nil)
        sigaction(SIGINT, &action, nil)
        signal(SIGPIPE, SIG_IGN)

        var delay = 0.0
        while stopSignal.load(ordering: .relaxed) == 0 {
            let started = FastCGIIntake.monotonicSeconds()
            guard let child = spawn(listener: listener, arguments: arguments) else {
                alarm("cannot start the responder: \(String(cString: strerror(errno)))")
                if sleepUnlessStopped(&delay) { continue } else { break }
            }
            childPID.store(child, ordering: .relaxed)
            // A signal that came between the loop's check and the store above reached no child.
            if stopSignal.load(ordering: .relaxed) != 0 { kill(child, stopSignal.load(ordering: .relaxed)) }
            var status: Int32 = 0
            var unlinked = false
            while waitpid(child, &status, 0) < 0 {
                guard errno == EINTR else { break }
                // The web server stops connecting at once, as the responder alone did.
                if stopSignal.load(ordering: .relaxed) != 0, !unlinked, let socketPath {
                    unlink(socketPath)
                    unlinked = true
                }
            }
            childPID.store(0, ordering: .relaxed)
            guard stopSignal.load(ordering: .relaxed) == 0 else { break }
            alarm("the responder (pid \(child)) \(describe(status)); starting a new one")
            if FastCGIIntake.monotonicSeconds() - started >= healthyLifetime { delay = 0 }
            if !sleepUnlessStopped(&delay) { break }
        }
        if let socketPath { unlink(socketPath) }
        return 0
    }

    /// Sleeps `delay` seconds (0 the first time), then doubles it for next time; false if a
    /// stop signal came meanwhile.
    private static func sleepUnlessStopped(_ delay: inout Double) -> Bool {
        var request = timespec(tv_sec: Int(delay), tv_nsec: Int((delay - delay.rounded(.down)) * 1e9))
        var remaining = timespec()
        while stopSignal.load(ordering: .relaxed) == 0, nanosleep(&request, &remaining) != 0, errno == EINTR { request = remaining }
        delay = delay == 0 ? 0.5 : min(delay * 2, 5)
        return stopSignal.load(ordering: .relaxed) == 0
    }

    private static func spawn(listener: Int32, arguments: [String]) -> pid_t? {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if listener == 0 {
            // Inherited from spawn-fcgi or systemd: keep it across exec.
            _ = fcntl(0, F_SETFD, fcntl(0, F_GETFD) & ~FD_CLOEXEC)
        } else {
            posix_spawn_file_actions_adddup2(&actions, listener, 0)
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))

        let argv = ([CommandLine.arguments.first ?? "pixelhook"] + arguments + [supervisedFlag]).map { strdup($0) }
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let result = (argv + [nil]).withUnsafeBufferPointer { pointers in
            posix_spawn(&pid, "/proc/self/exe", &actions, &attributes, pointers.baseAddress!, environ)
        }
        guard result == 0 else {
            errno = result
            return nil
        }
        return pid
    }

    private static func describe(_ status: Int32) -> String {
        let signal = status & 0x7F
        if signal != 0 { return "was killed by signal \(signal) (\(String(cString: strsignal(signal))))" }
        return "exited with status \((status >> 8) & 0xFF)"
    }

    private static func alarm(_ text: String) {
        var line = Array("pixelhook fastcgi: ALARM: \(text)\n".utf8)
        _ = write(2, &line, line.count)
        // And in the spool the responder's settings name, for whoever does not read our stderr.
        let spool: String? = switch SettingsLoader.load(environment: ProcessEnvironment.current()) {
        case .success(let settings): settings.spool
        case .failure(let error): error.spool
        }
        if let spool { AlarmLog(spool: Spool(root: spool)).append("fastcgi: \(text)") }
    }
}
