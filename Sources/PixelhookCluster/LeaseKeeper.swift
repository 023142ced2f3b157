#if canImport(Glibc)
import Glibc
#endif

/// Renews a build's lease every third of its length while a handler runs, on a thread and a
/// connection of its own (the runner's thread is waiting for the handler). A runner that is
/// stopped (SIGSTOP, a frozen VM) stops renewing with it: its lease expires and another host
/// takes the build over; the fence then refuses what the stale runner writes afterwards.
final class LeaseKeeper: @unchecked Sendable {
    private let conninfo: String
    private let host: String
    private let lease: ClusterStore.Lease
    private let leaseSeconds: Int
    private var mutex = pthread_mutex_t()
    private var condition = pthread_cond_t()
    private var stopped = false
    private var lost = false
    private var thread: pthread_t?

    init(conninfo: String, host: String, lease: ClusterStore.Lease, leaseSeconds: Int) {
        self.conninfo = conninfo
        self.host = host
        self.lease = lease
        self.leaseSeconds = leaseSeconds
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&condition, nil)
    }

    deinit {
        pthread_cond_destroy(&condition)
        pthread_mutex_destroy(&mutex)
    }

    func start() {
        let context = Unmanaged.passRetained(self).toOpaque()
        var started = pthread_t()
        let status = pthread_create(&started, nil, { context in
            let keeper = Unmanaged<LeaseKeeper>.fromOpaque(context!).takeRetainedValue()
            keeper.renewUntilStopped()
            return nil
        }, context)
        if status == 0 {
            thread = started
        } else {
            Unmanaged<LeaseKeeper>.fromOpaque(context).release()  // no renewal: the handler must end within the lease
        }
    }

    /// Stops renewing; true if a renewal found the lease gone (another host took the build).
    func stop() -> Bool {
        pthread_mutex_lock(&mutex)
        stopped = true
        pthread_cond_signal(&condition)
        pthread_mutex_unlock(&mutex)
        if let thread { pthread_join(thread, nil) }
        return lost
    }

    private func renewUntilStopped() {
        var connection: PostgresConnection?
        let interval = max(Double(leaseSeconds) / 3, 0.2)
        pthread_mutex_lock(&mutex)
        while !stopped {
            var deadline = timespec()
            clock_gettime(CLOCK_REALTIME, &deadline)
            let nanoseconds = Int(deadline.tv_nsec) + Int(interval.truncatingRemainder(dividingBy: 1) * 1e9)
            deadline.tv_sec += Int(interval) + nanoseconds / 1_000_000_000
            deadline.tv_nsec = nanoseconds % 1_000_000_000
            if pthread_cond_timedwait(&condition, &mutex, &deadline) != ETIMEDOUT || stopped { continue }
            pthread_mutex_unlock(&mutex)
            // A failed renewal (PostgreSQL away) is tried again next time; the lease may expire meanwhile.
            if connection == nil { connection = try? PostgresConnection(conninfo) }
            var renewed: Bool?
            if let open = connection {
                do {
                    renewed = try ClusterStore(connection: open, host: host).renew(lease, leaseSeconds: leaseSeconds)
                } catch {
                    connection = nil
                }
            }
            pthread_mutex_lock(&mutex)
            if renewed == false { lost = true }
        }
        pthread_mutex_unlock(&mutex)
    }
}
