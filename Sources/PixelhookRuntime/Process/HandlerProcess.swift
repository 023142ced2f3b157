#if canImport(Glibc)
import Glibc
#endif
import CPosix
import PixelhookCore
import SystemPackage

/// Runs one handler executable to completion under the contract of SPEC "Handlers": the raw
/// body on stdin, exactly the given environment, its own process group, a deadline after which
/// the whole group gets TERM then KILL, and output kept up to a cap.
public struct HandlerProcess {
    public var executable: String
    /// Arguments after argv[0] (handlers get none; `send` runs curl with some).
    public var arguments: [String] = []
    public var payloadPath: String
    public var environment: [String: String]
    public var workingDirectory: String
    public var timeoutSeconds: Double
    /// Bytes of stdout+stderr kept; the rest is read and counted, never stored.
    public var outputCap = 64 * 1024
    /// Between TERM and KILL, at the deadline and for leftovers after the handler exits.
    public var killGraceSeconds = 2.0
    /// Makes this process a child subreaper: whatever a handler leaves running (a daemon it
    /// double-forked, a background child) is re-parented to it once its parents are gone, where
    /// `run` finds and stops it. Process-wide, so the commands that run handlers call it once at
    /// start (not this type, which test processes share). Only for a process that runs one
    /// handler at a time and starts no other children: every child it adopts is then the
    /// running handler's (`stopLeftovers`).
    public static func adoptOrphans() { _ = pixelhook_become_subreaper() }

    /// Locked descriptors the handler holds too, as fd 3, 4, …: the build's lock and its slot
    /// stay held while it runs even if its runner is killed, so `retry` or the build's next
    /// runner cannot start the same delivery beside it or exceed the cap. Whatever the handler
    /// leaves running holds them as well; a subreaper runner stops all of it before it lets
    /// them go (`stopLeftovers`).
    public var inheritedLocks: [Int32] = []

    /// Called with the handler's pid once it runs, before its output is read (the runner
    /// notes it in `EVENT.running`).
    var started: (pid_t) -> Void = { _ in }

    public init(executable: String, arguments: [String] = [], payloadPath: String, environment: [String: String],
                workingDirectory: String, timeoutSeconds: Double, inheritedLocks: [Int32] = []) {
        self.inheritedLocks = inheritedLocks
        self.executable = executable
        self.arguments = arguments
        self.payloadPath = payloadPath
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.timeoutSeconds = timeoutSeconds
    }

    public struct Outcome: Sendable {
        public var exitCode: Int?
        public var signal: Int?
        public var timedOut: Bool
        public var output: [UInt8]
        public var outputBytes: Int
    }

    public func run() throws(StorageError) -> Outcome {
        let stdin = try attempt("open", payloadPath) {
            try FileDescriptor.open(payloadPath, .readOnly, options: [.closeOnExec])
        }
        defer { try? stdin.close() }
        var pipeEnds: [Int32] = [0, 0]
        guard pixelhook_pipe_cloexec(&pipeEnds) == 0 else { throw StorageError("create a pipe for", executable, Errno(rawValue: errno)) }
        let reader = pipeEnds[0]
        defer { close(reader) }

        var pid: pid_t = 0
        func spawn() -> Int32 {
            withCStrings([executable] + arguments) { argv in
                withCStrings(ExecEnvironment.entries(environment)) { envp in
                    inheritedLocks.withUnsafeBufferPointer { locks in
                        pixelhook_spawn_handler(&pid, executable, argv, envp, stdin.rawValue, pipeEnds[1], workingDirectory,
                                                locks.baseAddress, Int32(locks.count))
                    }
                }
            }
        }
        // ETXTBSY: the file is open for writing somewhere, typically an operator's `cp` over the
        // handler, or a descriptor another thread's fork holds until its exec. Both pass.
        var spawnError = spawn()
        var pause = 0.005
        while spawnError == ETXTBSY, pause < 1 {
            Syscalls.sleep(seconds: pause)
            pause *= 2
            spawnError = spawn()
        }
        close(pipeEnds[1])
        guard spawnError == 0 else { throw StorageError("run", executable, Errno(rawValue: spawnError)) }
        started(pid)
        return supervise(pid: pid, reader: reader)
    }

    /// Reads output until the handler exits or its deadline passes, then makes sure nothing
    /// of its group is left. The leader is reaped last so its group id cannot be reused while
    /// we still signal it.
    private func supervise(pid: pid_t, reader: Int32) -> Outcome {
        var output: [UInt8] = []
        var outputBytes = 0
        var buffer = [UInt8](repeating: 0, count: 16384)
        let deadline = Syscalls.monotonicSeconds() + timeoutSeconds
        var timedOut = false
        var readerOpen = true

        // With the output closed, the exit usually follows within microseconds: wait for it in
        // short, growing steps (a flat 50 ms here was most of a `true` handler's run).
        var closedPause = 0.0005
        func drain(waitMilliseconds: Int32) {
            guard readerOpen else {
                Syscalls.sleep(seconds: min(closedPause, Double(waitMilliseconds) / 1000))
                closedPause = min(closedPause * 2, 0.05)
                return
            }
            var poller = pollfd(fd: reader, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, waitMilliseconds) > 0 else { return }
            let count = buffer.withUnsafeMutableBytes { read(reader, $0.baseAddress, $0.count) }
            if count <= 0 {
                if count == 0 || (errno != EINTR && errno != EAGAIN) { readerOpen = false }
                return
            }
            outputBytes += count
            let room = outputCap - output.count
            if room > 0 { output += buffer[0..<min(room, count)] }
        }

        while pixelhook_child_has_exited(pid) == 0 {
            if Syscalls.monotonicSeconds() >= deadline {
                timedOut = true
                break
            }
            drain(waitMilliseconds: 50)
        }
        // Deadline passed, or the leader exited: nothing of the group may stay behind, nor
        // anything that left it (a `setsid` daemon, whatever its environment).
        if timedOut || !leftNothing(leader: pid) {
            stopGroup(pid, reading: { drain(waitMilliseconds: 20) })
            stopLeftovers(leader: pid, reading: { drain(waitMilliseconds: 20) })
        }
        while readerOpen {
            var flags = fcntl(reader, F_GETFL)
            flags |= O_NONBLOCK
            _ = fcntl(reader, F_SETFL, flags)
            let before = outputBytes
            drain(waitMilliseconds: 0)
            if before == outputBytes { break }
        }
        var exitCode: Int32 = -1
        var signal: Int32 = 0
        _ = pixelhook_reap(pid, &exitCode, &signal)
        return Outcome(
            exitCode: exitCode >= 0 ? Int(exitCode) : nil, signal: signal > 0 ? Int(signal) : nil,
            timedOut: timedOut, output: output, outputBytes: outputBytes)
    }

    /// TERM to the group, a grace period, then KILL. `kill(-pgid, 0)` fails once it is empty
    /// (the unreaped leader alone still counts, so stop when only it is left).
    private func stopGroup(_ pid: pid_t, reading: () -> Void) {
        guard kill(-pid, 0) == 0 else { return }
        kill(-pid, SIGTERM)
        kill(-pid, SIGCONT)
        let giveUp = Syscalls.monotonicSeconds() + killGraceSeconds
        while Syscalls.monotonicSeconds() < giveUp {
            reapGroupOrphans(pid)
            if pixelhook_child_has_exited(pid) == 1 && !groupHasOthers(pid) { return }
            reading()
        }
        kill(-pid, SIGKILL)
        let reaped = Syscalls.monotonicSeconds() + 1
        while Syscalls.monotonicSeconds() < reaped {
            reapGroupOrphans(pid)
            if !groupHasOthers(pid) { return }
            reading()
        }
    }

    /// Whether the exited leader is certainly all there was: we are a subreaper and have no
    /// other child. Every process the handler left, in its group or one that called `setsid`,
    /// descends from a child of ours (an orphan is handed to us), and the exited leader has no
    /// children left. Then neither the group nor escapees need looking for.
    private func leftNothing(leader: pid_t) -> Bool {
        pixelhook_is_subreaper() == 1 && ownChildren().allSatisfy { $0 == leader }
    }

    /// Whether any live process besides the (exited) leader is still in the group; a scan of
    /// every process on the host unless `leftNothing` already says no.
    private func groupHasOthers(_ pgid: pid_t) -> Bool {
        if leftNothing(leader: pgid) { return false }
        guard let entries = opendir("/proc") else { return false }
        defer { closedir(entries) }
        while let entry = readdir(entries) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard let other = pid_t(name), other != pgid else { continue }
            if getpgid(other) == pgid { return true }
        }
        return false
    }
}

/// Calls `body` with a NULL-terminated C array of copies of `strings`.
func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    pointers.append(nil)
    defer { for pointer in pointers { free(pointer) } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
