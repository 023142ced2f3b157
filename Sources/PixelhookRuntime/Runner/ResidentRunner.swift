#if canImport(Glibc)
import Glibc
#endif
import CPosix
import PixelhookCore
import Synchronization

/// For a process that serves many requests (the FastCGI responder): one queue runner that
/// stays while deliveries keep coming, woken through a pipe, instead of a `pixelhook
/// run-queue` process started for every delivery. Starting a runner costs more CPU than
/// everything else a new delivery needs (the exec of the static binary, its start-up and exit:
/// bench/README.md), and at a steady rate that start competed with the next request.
///
/// The runner is an ordinary runner in every other way (`DetachedQueueRunner.runPending`:
/// slots, claims, build locks, subreaper), started the same way (its own session, stdio on
/// /dev/null) with the read end of the pipe as fd 4. Between drains it holds no slot, so the
/// pool's rule (list the build, then probe the slots) holds for every other gateway of the
/// spool. It exits after `idleSeconds` without a wake, or when the responder is gone (end of
/// file on the pipe); a wake that finds it gone starts a new one.
///
/// Why nothing is missed: the gateway lists the build, then writes a byte. The runner reads
/// every byte there is, then drains: a build listed before a byte it read is seen by that
/// drain, and a byte written during a drain wakes it again. On its way out it closes the pipe
/// first and drains once more: a byte written before the close was preceded by its listing,
/// one written after it fails with `EPIPE` and the gateway starts a new runner.
///
/// Why no handler waits long behind another: a byte still unread `helpAfter` seconds after
/// it was written means the runner is busy (a long handler, a burst), and a detached runner
/// is started for the listed builds when a runner slot is free, as before this type existed.
public final class ResidentRunner: Sendable {
    /// The one in this process.
    public static let shared = ResidentRunner()

    /// How long the runner waits for the next wake before it exits.
    public static let idleSeconds = 1.0
    /// How long a wake may stay unread before a detached runner is started to help.
    public static let helpAfter = 0.02
    /// The option the runner is started with; the wake pipe is its fd 4.
    public static let option = "--resident"
    public static let wakeDescriptor: Int32 = 4

    private struct Running {
        /// The settings the runner was started with: it drains their spool only.
        let settings: Settings
        /// The pipe's write end (non-blocking, close-on-exec).
        let wake: Int32
        /// The last delivery woken for, named if a helper cannot be started.
        var lastWoken: Receiver.FollowUp
    }

    private let running = Mutex<Running?>(nil)
    /// The write end of the watchdog's own pipe (-1: no watchdog thread yet): a byte asks it to
    /// look at the runner's pipe `helpAfter` later.
    private let watchdog = Mutex<Int32>(-1)
    private let checkScheduled = Atomic<Bool>(false)

    public init() {}

    /// Called by a gateway once the response is out, for a build it has listed. Returns the
    /// `posix_spawn` error (0: woken, started or not needed), as `DetachedQueueRunner.wake`.
    @discardableResult
    public func wake(_ followUp: Receiver.FollowUp, executable: String = "/proc/self/exe") -> Int32 {
        // Cluster mode runs its queue in the cluster helper: the detached runner execs it.
        guard followUp.settings.cluster == nil else { return DetachedQueueRunner.wake(followUp, executable: executable) }
        enum Outcome { case woken, elsewhere, failed(Int32) }
        let outcome: Outcome = running.withLock { running in
            if var current = running {
                // For other settings (another spool) the byte only asks whether it still runs:
                // a drain that finds nothing new costs it little.
                let ours = current.settings == followUp.settings
                switch Self.poke(current.wake) {
                case 0, EAGAIN:  // EAGAIN: a full pipe, the runner has bytes enough to wake it
                    guard ours else { return .elsewhere }
                    current.lastWoken = followUp
                    running = current
                    return .woken
                default:  // EPIPE: it has exited
                    close(current.wake)
                    running = nil
                }
            }
            var ends: [Int32] = [-1, -1]
            guard pixelhook_pipe_cloexec(&ends) == 0 else { return .failed(errno) }
            // Non-blocking, both ends: the gateway never waits on a full pipe, the runner
            // polls before it reads.
            for end in ends { _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK) }
            _ = Self.poke(ends[1])  // its first drain
            let error = DetachedQueueRunner.start(settings: followUp.settings, wake: ends[0], executable: executable)
            close(ends[0])
            guard error == 0 else {
                close(ends[1])
                return .failed(error)
            }
            running = Running(settings: followUp.settings, wake: ends[1], lastWoken: followUp)
            return .woken
        }
        switch outcome {
        case .woken:
            scheduleCheck(executable: executable)
            return 0
        case .elsewhere: return DetachedQueueRunner.wake(followUp, executable: executable)
        case .failed(let error): return error
        }
    }

    /// One byte into a pipe; 0 or the errno.
    private static func poke(_ fd: Int32) -> Int32 {
        var byte: UInt8 = 1
        while write(fd, &byte, 1) < 0 {
            if errno != EINTR { return errno }
        }
        return 0
    }

    /// Has the watchdog look at the runner's pipe `helpAfter` from now, unless a look is due
    /// already. Without a watchdog thread (the system would not start one) it helps at once.
    private func scheduleCheck(executable: String) {
        guard !checkScheduled.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let signal: Int32? = watchdog.withLock { signal in
            if signal < 0 {
                var ends: [Int32] = [-1, -1]
                guard pixelhook_pipe_cloexec(&ends) == 0 else { return nil }
                guard WorkerThread.start({ [self] in watch(ends[0], executable: executable) }) != nil else {
                    close(ends[0])
                    close(ends[1])
                    return nil
                }
                signal = ends[1]
            }
            return signal
        }
        if let signal, Self.poke(signal) == 0 { return }
        checkScheduled.store(false, ordering: .releasing)
        helpIfBehind(executable: executable)
    }

    /// The watchdog thread: for each scheduled look, waits `helpAfter`, then looks.
    private func watch(_ signal: Int32, executable: String) {
        var byte: UInt8 = 0
        while true {
            let got = read(signal, &byte, 1)
            if got < 0, errno == EINTR { continue }
            guard got == 1 else { return }
            Syscalls.sleep(seconds: Self.helpAfter)
            checkScheduled.store(false, ordering: .releasing)
            helpIfBehind(executable: executable)
        }
    }

    /// Starts a detached runner (if a runner slot is free) when the runner has not read a wake.
    private func helpIfBehind(executable: String) {
        let behind: Receiver.FollowUp? = running.withLock { running in
            guard let current = running else { return nil }
            var unread: Int32 = 0
            return ioctl(current.wake, UInt(FIONREAD), &unread) == 0 && unread > 0 ? current.lastWoken : nil
        }
        guard let followUp = behind else { return }
        let error = DetachedQueueRunner.wake(followUp, executable: executable)
        if error != 0 { DetachedQueueRunner.alarmNotStarted(followUp, error: error) }
    }

    /// The runner's life (fd 4 is the pipe): drain at every wake, exit once idle.
    public static func serve(settings: Settings) throws(StorageError) {
        var buffer = [UInt8](repeating: 0, count: 256)
        while true {
            var wake = pollfd(fd: wakeDescriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&wake, 1, Int32(idleSeconds * 1000))
            if ready < 0, errno == EINTR { continue }
            let read = ready > 0 ? buffer.withUnsafeMutableBytes { Glibc.read(wakeDescriptor, $0.baseAddress, $0.count) } : 0
            if read < 0, errno == EINTR || errno == EAGAIN { continue }
            if read <= 0 {
                // Idle, or the responder is gone: stop taking wakes, then look once more.
                close(wakeDescriptor)
                try DetachedQueueRunner.runPending(settings: settings)
                return
            }
            try DetachedQueueRunner.runPending(settings: settings)
        }
    }
}
