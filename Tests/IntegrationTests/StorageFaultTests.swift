import Foundation
import PixelhookTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// SPEC "One request" 9: storage failing (disk full, read-only spool) is a 503 with the reason,
/// nothing half-written is left, and service resumes by itself once the disk is back. The spool
/// is a small tmpfs the test fills up or remounts read-only, through one CGI and one FastCGI
/// gateway. (A spool that cannot even be created is `RefusalTests.spoolUnwritable`.)
@Suite(.serialized, .timeLimit(.minutes(2)),
       .enabled(if: Tmpfs.unavailable == nil, "mounting a tmpfs is not permitted here (needs root or CAP_SYS_ADMIN)"))
struct StorageFaultTests {
    static let gateways: [Gateway] = [.lighttpdCGI, .nginxFastCGI]

    /// Runs `body` with the fixture's spool on a fresh tmpfs of `size`; always unmounts it,
    /// before the fixture stops its servers and removes its directory.
    func withSpoolOnTmpfs(_ gateway: Gateway, size: String = "512k",
                          _ body: (WebServerFixture, Tmpfs) throws -> Void) throws {
        var disk: Tmpfs?
        var directory: String?
        let server: WebServerFixture
        do {
            server = try WebServerFixture(gateway, prepare: { made in
                directory = made
                disk = try Tmpfs(at: made + "/spool", size: size)
            })
        } catch {
            disk?.unmount()
            if let directory { try? FileManager.default.removeItem(atPath: directory) }
            throw error
        }
        // Unmounted while `server` is still alive: its teardown then removes a plain directory.
        defer { withExtendedLifetime(server) { disk?.unmount() } }
        try body(server, try #require(disk))
    }

    /// A 503 storage refusal whose reason carries the system's words for the fault.
    func expectStorageRefusal(_ reply: HTTPReply, mentioning cause: String,
                              sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(reply.status == 503, "\(reply)", sourceLocation: sourceLocation)
        #expect(reply.contentType == "application/json", "\(reply)", sourceLocation: sourceLocation)
        #expect(reply.json?["error"] == "storage", "\(reply)", sourceLocation: sourceLocation)
        #expect(reply.json?["reason"]?.string == cause, "\(reply)", sourceLocation: sourceLocation)
        // A short reason for the internet: the spool's path and the OS's words stay in the error log.
        #expect(!String(decoding: reply.body, as: UTF8.self).contains("/"), "\(reply)", sourceLocation: sourceLocation)
    }

    /// Every payload in the spool is one of `accepted`, whole; no temporary file is left.
    func expectNothingHalfWritten(_ server: WebServerFixture, accepted: [Data],
                                  sourceLocation: SourceLocation = #_sourceLocation) {
        let root = server.spool + "/deliveries"
        let files = (FileManager.default.enumerator(atPath: root)?.allObjects as? [String]) ?? []
        for file in files {
            let name = (file as NSString).lastPathComponent
            #expect(!name.hasPrefix(".tmp-"), "temporary file left: \(file)", sourceLocation: sourceLocation)
            guard name.hasSuffix(".json") else { continue }
            let content = FileManager.default.contents(atPath: root + "/" + file) ?? Data()
            #expect(accepted.contains(content), "\(file) is not a whole accepted payload (\(content.count) bytes)",
                    sourceLocation: sourceLocation)
        }
    }

    /// Once the fault is gone, with no restart: the health check is 200 again, each of `bodies`
    /// (refused before) is stored as new, and all `handlers` runs end done. Replies go to `replies`.
    func expectRecovery(_ server: WebServerFixture, storing bodies: [Data], handlers: Int,
                        replies: inout [HTTPReply], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let healthy = try server.request("GET")
        #expect(healthy.status == 200 && healthy.json == ["ok": true], "\(healthy)", sourceLocation: sourceLocation)
        for body in bodies {
            let reply = try server.post(body)
            replies.append(reply)
            #expect(reply.status == 200 && reply.json?["duplicate"] == false, "\(reply)", sourceLocation: sourceLocation)
        }
        let results = try server.waitForHandlers(count: handlers)
        #expect(results.values.allSatisfy { $0["state"] == "done" }, "\(results)", sourceLocation: sourceLocation)
    }

    @Test("Disk full: a new delivery is 503 with the reason, nothing half-written; freed, it is stored and run",
          arguments: gateways)
    func diskFull(_ gateway: Gateway) throws {
        try withSpoolOnTmpfs(gateway) { server, disk in
            try server.writeRecorder(named: "default")
            let responder = server.servingResponderPID()
            let first = Payloads.event("build.uploaded", uploadId: "full-1")
            var replies = [try server.post(first)]
            #expect(replies[0].status == 200, "\(replies[0])")
            try server.waitForHandlers(count: 1)

            try disk.fill()
            #expect(disk.available == 0)
            // A new build needs a directory and a file; a new event of a known build, a file.
            let newBuild = Payloads.event("build.uploaded", uploadId: "full-2", padding: 8000)
            let sameBuild = Payloads.event("build.downloading", uploadId: "full-1", status: "Downloading Files", padding: 8000)
            for body in [newBuild, sameBuild] {
                let reply = try server.post(body)
                replies.append(reply)
                expectStorageRefusal(reply, mentioning: "storage failed: disk full")
            }
            // A duplicate needs no space: still recognised.
            let duplicate = try server.post(first)
            replies.append(duplicate)
            #expect(duplicate.status == 200 && duplicate.json?["duplicate"] == true, "\(duplicate)")
            #expect(server.storedDeliveries == ["\(WebServerFixture.projectID)/full-1/build.uploaded"])
            expectNothingHalfWritten(server, accepted: [first])
            // The health check says so too, though the spool is still writable by access(2).
            let health = try server.request("GET")
            replies.append(health)
            #expect(health.status == 503, "\(health)")
            #expect(health.json?["error"]?.string == "storage failed: disk full", "\(health)")

            // Service resumes by itself: no restart, no operator.
            disk.free()
            try expectRecovery(server, storing: [newBuild, sameBuild], handlers: 3, replies: &replies)
            #expect(server.runs.sorted() == [
                "build.downloading \(WebServerFixture.projectID)/full-1/build.downloading",
                "build.uploaded \(WebServerFixture.projectID)/full-1/build.uploaded",
                "build.uploaded \(WebServerFixture.projectID)/full-2/build.uploaded",
            ], "\(server.runs)")
            expectNothingHalfWritten(server, accepted: [first, newBuild, sameBuild])
            server.expectNoCrash(replies, responder: responder)
        }
    }

    @Test("Read-only spool: POST and the health check are 503; remounted rw, both recover", arguments: gateways)
    func readOnlySpool(_ gateway: Gateway) throws {
        try withSpoolOnTmpfs(gateway) { server, disk in
            try server.writeRecorder(named: "default")
            let responder = server.servingResponderPID()
            let first = Payloads.event("build.uploaded", uploadId: "ro-1")
            var replies = [try server.post(first)]
            #expect(replies[0].status == 200, "\(replies[0])")
            try server.waitForHandlers(count: 1)

            try disk.remount(readOnly: true)
            let newBuild = Payloads.event("build.uploaded", uploadId: "ro-2")
            let sameBuild = Payloads.event("build.downloading", uploadId: "ro-1", status: "Downloading Files")
            for body in [newBuild, sameBuild] {
                let reply = try server.post(body)
                replies.append(reply)
                expectStorageRefusal(reply, mentioning: "spool not writable")
            }
            let health = try server.request("GET")
            replies.append(health)
            #expect(health.status == 503, "\(health)")
            #expect(health.contentType == "application/json")
            #expect(health.json?["ok"] == false, "\(health)")
            #expect(health.json?["error"]?.string == "spool not writable", "\(health)")
            let head = try server.request("HEAD")
            #expect(head.status == 503, "\(head)")
            #expect(server.storedDeliveries == ["\(WebServerFixture.projectID)/ro-1/build.uploaded"])

            try disk.remount(readOnly: false)
            try expectRecovery(server, storing: [newBuild, sameBuild], handlers: 3, replies: &replies)
            #expect(server.runs.count == 3, "\(server.runs)")
            expectNothingHalfWritten(server, accepted: [first, newBuild, sameBuild])
            server.expectNoCrash(replies, responder: responder)
        }
    }
}
