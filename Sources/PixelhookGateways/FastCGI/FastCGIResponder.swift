#if canImport(Glibc)
import Glibc
#endif
import CFastCGI
import PixelhookRuntime
import Synchronization

/// The persistent responder: worker threads accepting on one listening socket until SIGTERM
/// (under `FastCGISupervisor`, which restarts it if it dies).
///
/// The listening socket is non-blocking and each worker waits for it, and for kept connections
/// with a new request (`FastCGIKeptConnections`), with a short timeout (`ListenerWaiter`), so a
/// SIGTERM is noticed within that timeout. Each worker accepts and checks a connection itself
/// (`FastCGIIntake`) before libfcgi parses it. On SIGTERM the socket file we created (if any)
/// is removed so the web server stops connecting, the connections already queued on the socket
/// are still served, requests in flight finish, and the process exits 0. A worker that loses
/// the race for a connection gets EAGAIN and waits again.
package enum FastCGIResponder {
    package static let stopRequested = Atomic<Bool>(false)
    /// How long one read or write on a FastCGI connection may block.
    package static let connectionTimeoutSeconds = 30

    /// - Parameter socketPath: the unix socket file this process created, removed on SIGTERM.
    /// - Parameter trust: who may connect, and which per-request settings apply.
    package static func serve(listener: Int32, workers: Int, socketPath: String? = nil, trust: FastCGITrust) -> Int32 {
        FCGX_Init()
        signal(SIGPIPE, SIG_IGN)
        // Detached queue runners are our children; ignoring SIGCHLD lets the kernel reap them.
        signal(SIGCHLD, SIG_IGN)
        signal(SIGTERM) { _ in FastCGIResponder.stopRequested.store(true, ordering: .relaxed) }
        signal(SIGINT) { _ in FastCGIResponder.stopRequested.store(true, ordering: .relaxed) }
        let flags = fcntl(listener, F_GETFL)
        _ = fcntl(listener, F_SETFL, flags | O_NONBLOCK)

        let gateway = FastCGIGateway(listener: listener, processEnvironment: ProcessEnvironment.current(), trust: trust)
        let intake = FastCGIIntake(listener: listener, clients: trust.clients)
        let kept = FastCGIKeptConnections()
        let threads = (0..<max(1, workers)).map { _ in
            guard let thread = WorkerThread.start({ acceptLoop(gateway, intake: intake, kept: kept) }) else {
                fatalError("pixelhook: cannot start a worker thread")
            }
            return thread
        }
        while !stopRequested.load(ordering: .relaxed) { usleep(50_000) }
        if let socketPath { unlink(socketPath) }
        for thread in threads { pthread_join(thread, nil) }
        return 0
    }

    private static func acceptLoop(_ gateway: FastCGIGateway, intake: FastCGIIntake, kept: FastCGIKeptConnections) {
        var request = FCGX_Request()
        var memo = SettingsMemo()
        // No listening socket for libfcgi: it must never accept, and parse, a connection the
        // intake has not checked (after a bad request it would try to accept the next one).
        FCGX_InitRequest(&request, -1, 0)
        let waiter = ListenerWaiter(listener: gateway.listener, kept: kept.fd)
        func serve(_ connection: FastCGIIntake.Outcome) {
            guard case .connection(let checked) = connection else { return }
            FastCGIResponder.serve(checked, request: &request, gateway: gateway, memo: &memo, kept: kept)
        }
        while !stopRequested.load(ordering: .relaxed) {
            guard waiter.waitForConnection(milliseconds: 200) else { continue }
            if let connection = kept.take() {
                serve(intake.admit(connection))
                continue
            }
            let outcome = intake.accept()
            switch outcome {
            case .connection: serve(outcome)
            case .closed: continue
            case .nothingWaiting(let error):
                // Out of descriptors and the like: the listener stays readable, so do not spin.
                if error != EAGAIN, error != EWOULDBLOCK, error != EINTR { usleep(100_000) }
            }
        }
        // Stopping: serve what is already queued on the socket or sent on a kept connection,
        // without waiting for more.
        while let connection = kept.take() { serve(intake.admit(connection)) }
        while true {
            let outcome = intake.accept()
            switch outcome {
            case .connection: serve(outcome)
            case .closed: continue
            case .nothingWaiting: FCGX_Free(&request, 1); return
            }
        }
    }

    /// libfcgi reads the checked request's start, the gateway reads its body
    /// (`FastCGIStdinReader`) and answers; the gateway's `FCGX_Finish_r` writes the end and
    /// closes the connection, unless the web server asked to keep it (FCGI_KEEP_CONN): then it
    /// is parked in `kept`, holding no worker while idle.
    private static func serve(_ connection: CheckedConnection, request: inout FCGX_Request, gateway: FastCGIGateway,
                              memo: inout SettingsMemo, kept: FastCGIKeptConnections) {
        request.ipcFd = connection.head
        // FCGX_Accept_r first finishes the previous request, closing ipcFd unless kept.
        request.keepConnection = 1
        let accepted = FCGX_Accept_r(&request)
        // On a start it cannot read, libfcgi has closed `head` itself (and, with no listener,
        // accepted nothing else); the check lets nothing through that it refuses (the fuzzer
        // holds it to that), so this is only a safety net.
        guard accepted >= 0 else {
            close(connection.fd)
            return
        }
        close(connection.head)
        // From here libfcgi writes the response to the client's connection.
        request.ipcFd = connection.fd
        gateway.serve(&request, memo: &memo)
        if request.ipcFd >= 0 {
            kept.park(request.ipcFd)
            request.ipcFd = -1
        }
    }
}
