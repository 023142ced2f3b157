import Foundation
import PixelhookTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The FastCGI responder's resident runner (`ResidentRunner`): one runner process drains a
/// series of deliveries instead of one started per delivery, a long handler does not hold up
/// another build's, and a runner that is gone (idle, or killed) is replaced at the next wake.
/// Each test starts `pixelhook fastcgi` on its own and speaks raw FastCGI to it; its handler
/// logs each run with its parent, which is the runner that started it.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct ResidentRunnerTests {
    /// The responder, its handler logging `start|end DELIVERY PPID` (and sleeping 4 s for an
    /// uploadId starting with `slow`).
    func responder() throws -> BareResponder {
        let responder = try BareResponder(["--listen", "SOCKET"]) { access($0 + "/pixelhook.sock", F_OK) == 0 }
        let handler = responder.directory + "/handlers/default"
        try """
            #!/bin/sh
            echo "start $PIXELHOOK_DELIVERY $PPID" >> \(runsLog(responder))
            case "$PIXELHOOK_UPLOAD_ID" in slow*) sleep 4 ;; esac
            echo "end $PIXELHOOK_DELIVERY $PPID" >> \(runsLog(responder))
            """.write(toFile: handler, atomically: true, encoding: .utf8)
        chmod(handler, 0o755)
        return responder
    }

    func runsLog(_ responder: BareResponder) -> String { responder.directory + "/runs.log" }

    /// `(kind, delivery, runner pid)` per line of the handler's log.
    func runs(_ responder: BareResponder) -> [(kind: String, delivery: String, runner: Int32)] {
        let text = (try? String(contentsOfFile: runsLog(responder), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count == 3, let pid = Int32(fields[2]) else { return nil }
            return (String(fields[0]), String(fields[1]), pid)
        }
    }

    /// Posts a new delivery of build `uploadId`; returns its delivery id after a 200.
    @discardableResult
    func post(_ responder: BareResponder, uploadId: String) throws -> String {
        let body = Array(Payloads.event("build.approved", uploadId: uploadId))
        let reply = try FastCGIConnection(socket: responder.directory + "/pixelhook.sock")
            .exchange(FastCGIConnection.nginxParams(body: body), body: body)
        try #require(reply.status == 200 && reply.json?["duplicate"] == false, "\(uploadId): \(reply)")
        return "\(WebServerFixture.projectID)/\(uploadId)/build.approved"
    }

    /// Waits up to `seconds` for `condition`; its last value.
    func wait(_ seconds: Double, until condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while !condition() {
            guard Date() < deadline else { return false }
            usleep(20_000)
        }
        return true
    }

    func isDone(_ responder: BareResponder, _ delivery: String) -> Bool {
        let result = FileManager.default.contents(atPath: "\(responder.spool)/deliveries/\(delivery).result") ?? Data()
        return String(decoding: result, as: UTF8.self).contains(#""state":"done""#)
    }

    /// The resident runners draining this responder's spool now.
    func residentRunners(_ responder: BareResponder) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            guard let command = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"),
                  let environment = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { return false }
            return command.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }.suffix(2) == ["run-queue", "--resident"]
                && environment.split(separator: 0).contains { String(decoding: $0, as: UTF8.self) == "PIXELHOOK_SPOOL=\(responder.spool)" }
        }
    }

    @Test("Deliveries 50 ms apart are run by one resident runner, each once, not by a runner started for each")
    func oneRunnerForASeries() throws {
        let responder = try responder()
        var deliveries: [String] = []
        for index in 0..<12 {
            deliveries.append(try post(responder, uploadId: "series-\(index)"))
            usleep(50_000)
        }
        #expect(wait(10) { deliveries.allSatisfy { isDone(responder, $0) } }, "not all done: \(runs(responder))")
        let starts = runs(responder).filter { $0.kind == "start" }
        #expect(starts.map(\.delivery).sorted() == deliveries.sorted(), "each delivery once: \(starts)")
        // A detached runner per delivery gave 12 parents; a helper may join if the resident
        // runner was slow to read a wake (a loaded machine), never one per delivery.
        let runners = Set(starts.map(\.runner))
        #expect(runners.count <= 3, "\(runners.count) runners for 12 deliveries: \(starts)")
        responder.waitForRunners(spool: responder.spool)
    }

    @Test("A handler that runs long does not hold up the next build's: a runner is started to help")
    func longHandlerDoesNotBlock() throws {
        let responder = try responder()
        let slow = try post(responder, uploadId: "slow-1")
        #expect(wait(5) { runs(responder).contains { $0.kind == "start" && $0.delivery == slow } }, "the slow handler never started")
        let sent = Date()
        let quick = try post(responder, uploadId: "quick-1")
        #expect(wait(3) { isDone(responder, quick) }, "the quick handler waited for the slow one: \(runs(responder))")
        let waited = Date().timeIntervalSince(sent)
        #expect(!runs(responder).contains { $0.kind == "end" && $0.delivery == slow },
                "the slow handler ended before the quick one was done (\(waited) s): \(runs(responder))")
        #expect(wait(10) { isDone(responder, slow) })
        responder.waitForRunners(spool: responder.spool)
    }

    @Test("An idle resident runner exits, a killed one is replaced: the next delivery runs its handler either way")
    func replacedWhenGone() throws {
        let responder = try responder()
        let first = try post(responder, uploadId: "gone-1")
        #expect(wait(5) { isDone(responder, first) })
        #expect(wait(5) { residentRunners(responder).isEmpty }, "still running after idling: \(residentRunners(responder))")

        let second = try post(responder, uploadId: "gone-2")
        #expect(wait(5) { isDone(responder, second) })
        let started = residentRunners(responder)
        try #require(started.count == 1, "no resident runner after a new delivery: \(started)")
        kill(started[0], SIGKILL)
        #expect(wait(5) { !residentRunners(responder).contains(started[0]) })
        let third = try post(responder, uploadId: "gone-3")
        #expect(wait(5) { isDone(responder, third) }, "the delivery after the kill never ran: \(runs(responder))")
        let runners = Dictionary(runs(responder).filter { $0.kind == "start" }.map { ($0.delivery, $0.runner) }) { $1 }
        #expect(runners[first] != runners[second] && runners[second] == started[0] && runners[third] != started[0], "\(runners)")
        responder.waitForRunners(spool: responder.spool)
    }
}
