#if canImport(Glibc)
import Glibc
#endif
import CPosix  // sys/epoll.h

/// The idle connections a web server keeps open between requests (nginx `fastcgi_keep_conn on`
/// with an upstream `keepalive` pool), parked here rather than in a worker: libfcgi's own loop
/// would block the worker reading the next request on it, so a pool larger than the workers
/// left later requests unserved until nginx gave up (504).
///
/// A parked connection is registered one-shot in a shared epoll instance, which every worker's
/// `ListenerWaiter` watches beside the listener: when the web server sends the next request
/// (or closes), one worker takes the connection and admits it like a new one.
package final class FastCGIKeptConnections: @unchecked Sendable {
    /// The shared epoll instance (-1 if it cannot be made: then kept connections are closed).
    package let fd: Int32

    package init() {
        fd = epoll_create1(Int32(EPOLL_CLOEXEC))
    }

    /// Parks `connection` until it is readable or closed; closes it if it cannot be parked.
    package func park(_ connection: Int32) {
        var interest = epoll_event()
        interest.events = EPOLLIN.rawValue | EPOLLRDHUP.rawValue | EPOLLONESHOT.rawValue
        interest.data.fd = connection
        if fd < 0 || epoll_ctl(fd, EPOLL_CTL_ADD, connection, &interest) != 0 { close(connection) }
    }

    /// A parked connection with something to read (a request, or the end), or nil if none.
    package func take() -> Int32? {
        guard fd >= 0 else { return nil }
        var ready = epoll_event()
        guard epoll_wait(fd, &ready, 1, 0) == 1 else { return nil }
        let connection = ready.data.fd
        epoll_ctl(fd, EPOLL_CTL_DEL, connection, nil)
        return connection
    }
}
