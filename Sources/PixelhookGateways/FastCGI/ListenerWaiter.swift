#if canImport(Glibc)
import Glibc
#endif

/// One worker's wait for a connection on the shared listening socket, or a kept one with a
/// new request (`FastCGIKeptConnections`): `poll` on both, so every waiting worker wakes for
/// each connection and all but one find nothing to accept.
///
/// Why not `EPOLLEXCLUSIVE` (one worker woken per connection): it was written so once, and
/// never ran, since the kernel refuses the flag for the kept connections' epoll instance
/// (EINVAL) and the code fell back to this. Made to work (the listener exclusive, the kept
/// instance plain), it saved the wake-ups, but a level-triggered exclusive waiter is not woken
/// for connections already queued, so under a burst they can wait for a busy worker while
/// others sleep; the paired bench could not tell the two apart (X1 ÷ F1 at -c16, 2026-12-06:
/// 0.71 and 0.74 with it, 0.85, 0.77 and 0.67 with `poll`), so `poll`, as shipped, stays. One
/// acceptor thread handing connections to the workers would have neither cost
/// (bench/README.md).
package struct ListenerWaiter {
    private let listener: Int32
    private let kept: Int32

    /// - Parameter kept: `FastCGIKeptConnections.fd`, watched beside the listener (-1: none).
    package init(listener: Int32, kept: Int32 = -1) {
        self.listener = listener
        self.kept = kept
    }

    /// True when a connection may be waiting on the listener or among the kept ones (another
    /// worker can still take it first: both are non-blocking, and the worker waits again).
    package func waitForConnection(milliseconds: Int32) -> Bool {
        var pollers = [pollfd(fd: listener, events: Int16(POLLIN), revents: 0), pollfd(fd: kept, events: Int16(POLLIN), revents: 0)]
        return poll(&pollers, kept >= 0 ? 2 : 1, milliseconds) > 0
    }
}
