#if canImport(Glibc)
import Glibc
#endif
import CPosix  // sys/epoll.h, which Glibc does not import

/// One worker's wait for a connection on the shared listening socket, or a kept one with a
/// new request (`FastCGIKeptConnections`).
///
/// Each worker has its own epoll instance with the listener registered `EPOLLEXCLUSIVE`, so a
/// new connection wakes one waiting worker, not all of them: with `poll` every worker woke for
/// every request and all but one went back to sleep, which on two cores cost more than the
/// request itself. Falls back to `poll` where epoll cannot be set up.
package struct ListenerWaiter {
    private let listener: Int32
    private let epoll: Int32

    private let kept: Int32

    /// - Parameter kept: `FastCGIKeptConnections.fd`, watched beside the listener (-1: none).
    package init(listener: Int32, kept: Int32 = -1) {
        self.listener = listener
        self.kept = kept
        var epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        // Not the kept connections' epoll instance: the kernel refuses EPOLLEXCLUSIVE for one
        // (EINVAL), and that refusal once sent every worker back to `poll`, each new connection
        // waking all of them. A kept connection's next request wakes every worker still.
        for (watched, exclusive) in [(listener, true), (kept, false)] where watched >= 0 && epoll >= 0 {
            var interest = epoll_event()
            interest.events = EPOLLIN.rawValue | (exclusive ? EPOLLEXCLUSIVE.rawValue : 0)
            interest.data.fd = watched
            if epoll_ctl(epoll, EPOLL_CTL_ADD, watched, &interest) != 0 {
                Glibc.close(epoll)
                epoll = -1
            }
        }
        self.epoll = epoll
    }

    /// True when a connection may be waiting on the listener or among the kept ones (another
    /// worker can still take it first: both are non-blocking, and the worker waits again).
    package func waitForConnection(milliseconds: Int32) -> Bool {
        if epoll >= 0 {
            var ready = epoll_event()
            return epoll_wait(epoll, &ready, 1, milliseconds) > 0
        }
        var pollers = [pollfd(fd: listener, events: Int16(POLLIN), revents: 0), pollfd(fd: kept, events: Int16(POLLIN), revents: 0)]
        return poll(&pollers, kept >= 0 ? 2 : 1, milliseconds) > 0
    }

    package func close() {
        if epoll >= 0 { Glibc.close(epoll) }
    }
}
