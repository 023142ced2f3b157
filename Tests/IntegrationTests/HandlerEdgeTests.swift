import Foundation
import Testing
import PixelhookTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Handlers at the edges of SPEC "Handlers", through a real web server: a handler or handlers
/// directory that is not there to run (the delivery fails, `retry` runs it once fixed), a field
/// longer than `execve` takes, and a daemon that leaves its group and its environment.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct HandlerEdgeTests {
    @Test("A handler that is a broken symbolic link: delivery failed, `check` names it, `retry` runs it once its target is there",
          arguments: [Gateway.lighttpdCGI, .nginxFastCGI])
    func danglingSymlinkHandler(_ gateway: Gateway) throws {
        let server = try WebServerFixture(gateway)
        let link = server.handlers + "/build.approved"
        let target = server.directory + "/deploy.sh"  // not deployed yet
        #expect(symlink(target, link) == 0)

        let reply = try server.post(Payloads.event("build.approved", uploadId: "link-1", status: "Approved"))
        #expect(reply.status == 200, "\(reply)")
        let id = "\(WebServerFixture.projectID)/link-1/build.approved"
        let result = try server.waitForHandlers(count: 1)[id]
        #expect(result?["state"] == "failed", "\(String(describing: result))")
        #expect(result?["detail"]?.string?.contains("\(link) is a broken symbolic link") == true, "\(String(describing: result))")

        let check = try server.runPixelhook(["check"])
        #expect(check.status == 1 && check.output.contains(link), "\(check)")

        try ("#!/bin/sh\necho \"$PIXELHOOK_EVENT $PIXELHOOK_DELIVERY\" >> \(server.directory)/runs.log\n")
            .write(toFile: target, atomically: true, encoding: .utf8)
        chmod(target, 0o755)
        try StoredAttempts.endedLongAgo(spool: server.spool)  // past the back-off (SPEC "Retries")
        let retry = try server.runPixelhook(["retry"])
        #expect(retry.status == 0, "\(retry)")
        #expect(server.runs == ["build.approved \(id)"], "\(server.runs)")
        #expect(try server.waitForHandlers(count: 1)[id]?["state"] == "done")
    }

    @Test("A missing handlers directory: delivery failed naming it, health 503 without the path, `retry` runs it once it is back",
          arguments: [Gateway.lighttpdCGI, .nginxFastCGI])
    func missingHandlersDirectory(_ gateway: Gateway) throws {
        let server = try WebServerFixture(gateway)
        try server.writeRecorder(named: "default")
        let away = server.directory + "/handlers-not-mounted"
        #expect(rename(server.handlers, away) == 0)

        let reply = try server.post(Payloads.event("build.uploaded", uploadId: "nodir-1"))
        #expect(reply.status == 200, "\(reply)")
        let id = "\(WebServerFixture.projectID)/nodir-1/build.uploaded"
        let result = try server.waitForHandlers(count: 1)[id]
        #expect(result?["state"] == "failed", "\(String(describing: result))")
        #expect(result?["detail"]?.string?.contains("handlers directory \(server.handlers) does not exist") == true,
                "\(String(describing: result))")

        let health = try server.request("GET")
        #expect(health.status == 503, "\(health)")
        #expect(health.json?["error"] == "handlers directory missing", "\(health)")
        #expect(!health.text.contains(server.directory), "the answer names a path: \(health.text)")

        #expect(rename(away, server.handlers) == 0)
        #expect(try server.request("GET").status == 200)
        try StoredAttempts.endedLongAgo(spool: server.spool)  // past the back-off (SPEC "Retries")
        let retry = try server.runPixelhook(["retry"])
        #expect(retry.status == 0, "\(retry)")
        #expect(server.runs == ["build.uploaded \(id)"], "\(server.runs)")
    }

    @Test("A 200 KB objection with PIXELHOOK_MAX_BODY 1 MiB: the handler runs, its variable cut on a character, stdin whole",
          arguments: [Gateway.lighttpdCGI, .nginxFastCGI])
    func longFieldIsCutInTheEnvironmentOnly(_ gateway: Gateway) throws {
        let server = try WebServerFixture(gateway, settings: ["PIXELHOOK_MAX_BODY": "1048576"])
        let out = server.directory
        try server.writeHandler(named: "build.rejected", """
            cat > \(out)/stdin.bin
            printf %s "$PIXELHOOK_OBJECTION" > \(out)/objection.txt
            """)
        // 2-byte characters, so a cut at an odd byte would split one.
        let objection = String(repeating: "\u{e9}", count: 100_000)
        let body = Payloads.event("build.rejected", uploadId: "long-1", status: "Reject", objection: objection)

        let reply = try server.post(body)
        #expect(reply.status == 200, "\(reply)")
        let result = try server.waitForHandlers(count: 1)["\(WebServerFixture.projectID)/long-1/build.rejected"]
        #expect(result?["state"] == "done" && result?["exitCode"] == .number(0), "\(String(describing: result))")
        #expect(FileManager.default.contents(atPath: out + "/stdin.bin") == body, "stdin is not the whole body")
        let seen = try #require(FileManager.default.contents(atPath: out + "/objection.txt"))
        let text = try #require(String(data: seen, encoding: .utf8), "cut inside a character")
        #expect(seen.count + "PIXELHOOK_OBJECTION=".utf8.count + 1 <= 131_072, "\(seen.count) bytes")
        #expect(seen.count > 100_000 && objection.hasPrefix(text), "\(seen.count) bytes")
    }

    @Test("A handler's `setsid env -i sleep 1000 &` is stopped when it exits: the build and the slot go on at once",
          arguments: [Gateway.lighttpdCGI, .nginxFastCGI])
    func daemonWithoutMarkersHoldsNothing(_ gateway: Gateway) throws {
        let server = try WebServerFixture(gateway, settings: ["PIXELHOOK_MAX_HANDLERS": "1"])
        let out = server.directory
        try server.writeHandler(named: "default", """
            if [ "$PIXELHOOK_UPLOAD_ID-$PIXELHOOK_EVENT" = "daemon-1-build.uploaded" ]; then
                setsid env -i sleep 1000 &
                echo $! > \(out)/daemon.pid
            fi
            echo "$PIXELHOOK_EVENT $PIXELHOOK_DELIVERY" >> \(out)/runs.log
            """)
        var daemon: pid_t?
        defer { if let daemon, ProcTable.isAlive(daemon) { kill(daemon, SIGKILL) } }

        let first = try server.post(Payloads.event("build.uploaded", uploadId: "daemon-1"))
        #expect(first.status == 200, "\(first)")
        try server.waitForHandlers(count: 1)
        daemon = server.lines(of: out + "/daemon.pid").first.flatMap { pid_t($0) }
        #expect(daemon != nil, "daemon.pid not written")

        // The same build (its lock) and another build (the one slot) run promptly.
        let sameBuild = try server.post(Payloads.event("build.approved", uploadId: "daemon-1", status: "Approved"))
        let otherBuild = try server.post(Payloads.event("build.approved", uploadId: "other-1", status: "Approved"))
        #expect(sameBuild.status == 200 && otherBuild.status == 200, "\(sameBuild) \(otherBuild)")
        let results = try server.waitForHandlers(count: 3, timeout: 15)
        #expect(results.values.allSatisfy { $0["state"] == "done" }, "\(results)")
        #expect(server.runs.count == 3, "\(server.runs)")
        if let daemon {
            #expect(ProcTable.waitUntilGone(daemon, timeout: 5), "sleep 1000 (\(daemon)) outlived its handler")
        }
    }
}
