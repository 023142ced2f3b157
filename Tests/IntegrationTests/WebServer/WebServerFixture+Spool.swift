import Foundation
import PixelhookTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Handlers the fixture writes, and what the spool holds: stored deliveries, results, the request log.
extension WebServerFixture {
    /// Writes an executable `/bin/sh` script into the handlers directory.
    func writeHandler(named name: String, _ script: String) throws {
        try ShellScript.write(script, to: handlers + "/" + name)
    }

    /// A handler that appends `EVENT DELIVERY` to `runs.log`, one line per run.
    func writeRecorder(named name: String) throws {
        try writeHandler(named: name, #"echo "$PIXELHOOK_EVENT $PIXELHOOK_DELIVERY" >> "# + directory + "/runs.log")
    }

    /// The lines of `runs.log`: one per recorder run.
    var runs: [String] { lines(of: directory + "/runs.log") }

    func lines(of path: String) -> [String] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    /// The spool's request log, one JSON object a line.
    var requestLog: [JSONValue] { requestLog(in: spool) }

    func requestLog(in spool: String) -> [JSONValue] {
        lines(of: spool + "/requests.log").compactMap { JSONValue.parse(Data($0.utf8)) }
    }

    /// `PROJECT/BUILD/EVENT` of every stored delivery (`deliveries/PROJECT/BUILD/EVENT.json`).
    var storedDeliveries: [String] { storedDeliveries(in: spool) }

    func storedDeliveries(in spool: String) -> [String] { deliveryFiles(suffix: ".json", spool: spool) }

    private func deliveryFiles(suffix: String, spool: String) -> [String] {
        let fm = FileManager.default
        let root = spool + "/deliveries"
        var found: [String] = []
        let visible = { (path: String) in ((try? fm.contentsOfDirectory(atPath: path)) ?? []).filter { !$0.hasPrefix(".") } }
        for project in visible(root) {
            for build in visible(root + "/" + project) {
                for file in visible(root + "/" + project + "/" + build) where file.hasSuffix(suffix) {
                    found.append("\(project)/\(build)/\(file.dropLast(suffix.count))")
                }
            }
        }
        return found.sorted()
    }

    /// Waits, polling the spool, until at least `count` handler results exist and every stored
    /// delivery has its result (the queue is idle); returns the results by `PROJECT/BUILD/EVENT`.
    @discardableResult
    func waitForHandlers(count: Int, timeout: Double = 10, spool: String? = nil) throws -> [String: JSONValue] {
        let spool = spool ?? self.spool
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let stored = storedDeliveries(in: spool)
            let finished = deliveryFiles(suffix: ".result", spool: spool)
            if finished.count >= count, Set(stored).isSubset(of: Set(finished)) {
                var results: [String: JSONValue] = [:]
                for id in finished {
                    let data = FileManager.default.contents(atPath: "\(spool)/deliveries/\(id).result") ?? Data()
                    results[id] = JSONValue.parse(data) ?? .string(String(decoding: data, as: UTF8.self))
                }
                return results
            }
            guard Date() < deadline else {
                throw FixtureError("after \(timeout) s: \(finished.count) handler results of \(count) expected; "
                    + "stored \(stored), finished \(finished)" + allLogs())
            }
            usleep(20_000)
        }
    }

    /// For teardown: until no build's queue is being drained, so that no handler started for
    /// this test outlives it. A runner holds `deliveries/PROJECT/BUILD/.lock` (flock) while it
    /// runs that build's handlers (see `Spool`); taking it for an instant tells whether one does.
    func waitUntilNoHandlerRuns(timeout: Double, spool: String) {
        let deadline = Date().addingTimeInterval(timeout)
        let root = spool + "/deliveries"
        let list = { (path: String) in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] }
        func busy() -> Bool {
            for project in list(root) {
                for build in list(root + "/" + project) {
                    let fd = open("\(root)/\(project)/\(build)/.lock", O_RDONLY | O_CLOEXEC)
                    guard fd >= 0 else { continue }
                    defer { close(fd) }
                    if flock(fd, LOCK_EX | LOCK_NB) != 0 { return true }
                }
            }
            return false
        }
        while busy(), Date() < deadline { usleep(50_000) }
    }

    /// Every file in the build directories under `deliveries/` (`PROJECT/BUILD/NAME`), hidden
    /// ones included: what a crash may have left behind.
    func spoolEntries() -> [String] {
        let fm = FileManager.default
        let root = spool + "/deliveries"
        var found: [String] = []
        for project in (try? fm.contentsOfDirectory(atPath: root)) ?? [] {
            for build in (try? fm.contentsOfDirectory(atPath: root + "/" + project)) ?? [] {
                for file in (try? fm.contentsOfDirectory(atPath: root + "/" + project + "/" + build)) ?? [] {
                    found.append("\(project)/\(build)/\(file)")
                }
            }
        }
        return found.sorted()
    }
}
