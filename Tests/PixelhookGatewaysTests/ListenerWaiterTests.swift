#if canImport(Glibc)
import Glibc
#endif
import Foundation
import PixelhookGateways
import Synchronization
import Testing

/// The responder's workers wait for a connection each on its own epoll instance, the listener
/// registered `EPOLLEXCLUSIVE`: a new connection wakes one of them, not every one.
@Suite struct ListenerWaiterTests {
    @Test("One connection wakes one of four waiting workers, with the kept connections watched too")
    func oneConnectionWakesOneWorker() throws {
        let socketDirectory = try #require(String(validatingCString: mkdtemp(strdup("/tmp/pixelhook-waiter.XXXXXX"))!))
        defer { try? FileManager.default.removeItem(atPath: socketDirectory) }
        let path = socketDirectory + "/waiter.sock"
        let listener = try FastCGIListener.open(path, mode: 0o600)
        defer { close(listener) }
        _ = fcntl(listener, F_SETFL, fcntl(listener, F_GETFL) | O_NONBLOCK)
        let kept = FastCGIKeptConnections()
        let woken = Atomic<Int>(0), waiting = Atomic<Int>(0)
        let threads = (0..<4).map { _ in
            Thread {
                let waiter = ListenerWaiter(listener: listener, kept: kept.fd)
                defer { waiter.close() }
                waiting.add(1, ordering: .relaxed)
                if waiter.waitForConnection(milliseconds: 1500) { woken.add(1, ordering: .relaxed) }
            }
        }
        threads.forEach { $0.start() }
        while waiting.load(ordering: .relaxed) < 4 { usleep(5_000) }
        usleep(100_000)  // every worker in epoll_wait
        let client = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(client) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            _ = path.utf8CString.withUnsafeBytes { raw.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0.prefix(raw.count))) }
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(connected == 0, "connect: \(String(cString: strerror(errno)))")
        usleep(1_700_000)  // past every waiter's timeout
        // With `poll` (the fallback) all four woke for the one connection.
        #expect((1...2).contains(woken.load(ordering: .relaxed)), "\(woken.load(ordering: .relaxed)) of 4 workers woke for one connection")
    }
}
