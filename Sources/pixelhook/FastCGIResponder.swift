#if canImport(Glibc)
import Glibc
#endif
import CFastCGI
import PixelhookRuntime
import Synchronization

/// The persistent responder: worker threads accepting on one listening socket until SIGTERM.
///
/// The listening socket is non-blocking and each worker waits for it with a short timeout before
/// `FCGX_Accept_r` (`ListenerWaiter`), so a SIGTERM is noticed within that timeout. Then the socket file we
/// created (if any) is removed so the web server stops connecting, the connections already
/// queued on the socket are still served, requests in flight finish, and the process exits
/// 0. A worker that loses the race for a connection gets EAGAIN from libfcgi and polls again.
enum FastCGIResponder {
    static let stopRequested = Atomic<Bool>(false)
    /// How long one read or write on a FastCGI connection may block.
    static let connectionTimeoutSeconds = 30

    /// - Parameter socketPath: the unix socket file this process created, removed on SIGTERM.
    /// - Parameter trust: who may connect, and which per-request settings apply.
    static func serve(listener: Int32, workers: Int, socketPath: String? = nil, trust: FastCGITrust) -> Int32 {
        AllowedClients.initializeLibfcgi(trust.clients) { _ = FCGX_Init() }
        signal(SIGPIPE, SIG_IGN)
        // Detached queue runners are our children; ignoring SIGCHLD lets the kernel reap them.
        signal(SIGCHLD, SIG_IGN)
        signal(SIGTERM) { _ in FastCGIResponder.stopRequested.store(true, ordering: .relaxed) }
        signal(SIGINT) { _ in FastCGIResponder.stopRequested.store(true, ordering: .relaxed) }
        let flags = fcntl(listener, F_GETFL)
        _ = fcntl(listener, F_SETFL, flags | O_NONBLOCK)
        // TCP connections inherit these from the listener, so a client that stalls mid-record
        // frees its worker (and a pending SIGTERM) after the timeout. Unix-socket connections
        // do not inherit them and libfcgi reads the request before handing us the descriptor:
        // there, only local users who can open the socket can stall a worker (README).
        var timeout = timeval(tv_sec: FastCGIResponder.connectionTimeoutSeconds, tv_usec: 0)
        setsockopt(listener, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(listener, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))

        let gateway = FastCGIGateway(listener: listener, processEnvironment: ProcessEnvironment.current(), trust: trust)
        let threads = (0..<max(1, workers)).map { _ in WorkerThread.start { acceptLoop(gateway) } }
        while !stopRequested.load(ordering: .relaxed) { usleep(50_000) }
        if let socketPath { unlink(socketPath) }
        for thread in threads { pthread_join(thread, nil) }
        return 0
    }

    private static func acceptLoop(_ gateway: FastCGIGateway) {
        var request = FCGX_Request()
        var memo = SettingsMemo()
        FCGX_InitRequest(&request, gateway.listener, 0)
        let waiter = ListenerWaiter(listener: gateway.listener)
        defer { waiter.close() }
        while !stopRequested.load(ordering: .relaxed) {
            guard waiter.waitForConnection(milliseconds: 200) else { continue }
            guard FCGX_Accept_r(&request) >= 0 else { continue }
            gateway.serve(&request, memo: &memo)
        }
        // Stopping: serve what is already queued on the socket, without waiting for more.
        while FCGX_Accept_r(&request) >= 0 { gateway.serve(&request, memo: &memo) }
        FCGX_Free(&request, 1)
    }
}

/// A pthread running one closure (Foundation's `Thread` is not in FoundationEssentials).
enum WorkerThread {
    private final class Body {
        let run: () -> Void
        init(_ run: @escaping () -> Void) { self.run = run }
    }

    static func start(_ run: @escaping () -> Void) -> pthread_t {
        var thread = pthread_t()
        let context = Unmanaged.passRetained(Body(run)).toOpaque()
        let result = pthread_create(&thread, nil, { raw in
            Unmanaged<Body>.fromOpaque(raw!).takeRetainedValue().run()
            return nil
        }, context)
        precondition(result == 0, "pthread_create failed: \(result)")
        return thread
    }
}
