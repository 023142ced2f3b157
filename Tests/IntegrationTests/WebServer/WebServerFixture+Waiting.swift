import Foundation
import PixelhookTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Waiting until a started server is ready: its socket exists, it listens on its own port, it answers.
extension WebServerFixture {
    /// Until fcgiwrap's socket exists and its preforked workers are known (recorded, so they
    /// are stopped too: fcgiwrap's parent leaves them behind when it is terminated).
    func waitForSocket(_ path: String, server: ChildProcess) throws {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            guard server.isRunning else { throw FixtureError("fcgiwrap exited (\(server.status))" + allLogs()) }
            if access(path, F_OK) == 0 {
                let workers = ProcTable.children(of: server.pid)
                if workers.count >= 4 {
                    startedPIDs += workers
                    return
                }
            }
            usleep(10_000)
        }
        throw FixtureError("fcgiwrap did not create \(path) within 10 s" + allLogs())
    }

    /// Until `server` itself (not some other test's server) holds a listening socket on the
    /// port, read from /proc/net/tcp and /proc/PID/fd. A server that cannot bind exits
    /// (lighttpd) or retries for a while (nginx); both count as failure.
    func waitUntilListening(port: Int, server: ChildProcess) throws {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            guard server.isRunning else {
                throw FixtureError("\(server.name) exited (\(server.status))" + allLogs())
            }
            let listening = ProcTable.listeningInodes(port: port)
            if !listening.isDisjoint(with: ProcTable.socketInodes(of: server.pid)) { return }
            if (try? String(contentsOfFile: logDirectory + "/nginx-startup.log", encoding: .utf8))?.contains("Address already in use") == true
                || (try? String(contentsOfFile: logDirectory + "/error.log", encoding: .utf8))?.contains("Address already in use") == true {
                throw FixtureError("port \(port) is taken")
            }
            usleep(10_000)
        }
        throw FixtureError("\(gateway) did not listen on 127.0.0.1:\(port) within 10 s" + allLogs())
    }

    /// Until a health check gets any HTTP answer (503 is an answer: some tests break the spool).
    func waitUntilAnswering() throws {
        let deadline = Date().addingTimeInterval(10)
        var last = ""
        while Date() < deadline {
            if let reply = try? request("GET"), reply.status != 0 {
                if reply.status == 502 || reply.status == 504 {
                    last = "answered \(reply.status)"
                } else {
                    return
                }
            }
            usleep(20_000)
        }
        throw FixtureError("\(url) did not answer within 10 s (\(last))" + allLogs())
    }
}
