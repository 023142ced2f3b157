import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// What a handler sees and how it is run, observed from outside through a real web server.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct HandlerTests {
    @Test("A handler that sleeps 5 s does not delay the 200", arguments: Gateway.allCases)
    func slowHandlerDoesNotDelayTheResponse(_ gateway: Gateway) throws {
        let server = try WebServerFixture(gateway)
        try server.writeHandler(named: "default", "sleep 5; echo done >> \(server.directory)/slow.log")

        let reply = try server.post(Payloads.event("build.uploaded", uploadId: "slow-1"))
        #expect(reply.status == 200, "\(reply)")
        #expect(reply.json?["duplicate"] == false)
        // Generous: the point is "not 5 s", not a latency figure.
        #expect(reply.seconds < 3, "the request took \(reply.seconds) s")

        let results = try server.waitForHandlers(count: 1, timeout: 20)
        #expect(results.values.first?["state"] == "done", "\(results)")
        #expect(server.lines(of: server.directory + "/slow.log") == ["done"])
    }

    @Test("stdin is the exact body; the environment is the allow-list and nothing else", arguments: Gateway.allCases)
    func stdinAndEnvironment(_ gateway: Gateway) throws {
        let server = try WebServerFixture(gateway, settings: ["PIXELHOOK_TOKEN": "s3cret"])
        let out = server.directory
        try server.writeHandler(named: "build.rejected", """
            cat > \(out)/stdin.bin
            env -0 > \(out)/env.bin
            pwd > \(out)/pwd.txt
            """)
        // Unusual whitespace (CR LF, tabs, blank lines, trailing spaces) and non-ASCII text.
        let body = Data((
            "\r\n\t{ \"event\" :\t\"build.rejected\",\r\n\n  \"projectId\":\"\(WebServerFixture.projectID)\" ,"
            + "\"uploadId\" : \"env-1\",   \"fileUrl\":null,\t\"status\":\"Reject\",\r\n"
            + "\"objection\":\"Caf\u{e9} \u{2014} \u{6771}\u{4eac} \u{1F680} \\u00e9 \\\"quoted\\\"\","
            + "\"timestamp\":\"2026-03-29T15:00:00.000+02:00\"  ,\"extra\":{\"ignored\":[1, 2.5e3 ,true]}}\n\n \t"
        ).utf8)

        let reply = try server.post(body, query: "token=s3cret",
                                    headers: ["X-Evil: 1", "Proxy: http://evil.example", "X-Pixelhook-Spool: /tmp/x"])
        #expect(reply.status == 200, "\(reply)")
        #expect(reply.json == ["received": true, "event": "build.rejected", "duplicate": false], "\(reply)")

        let results = try server.waitForHandlers(count: 1)
        #expect(results.values.first?["state"] == "done", "\(results)")

        let stdin = try #require(FileManager.default.contents(atPath: out + "/stdin.bin"))
        #expect(stdin == body, "stdin differs: \(stdin.count) bytes, body \(body.count) bytes")

        let envData = try #require(FileManager.default.contents(atPath: out + "/env.bin"))
        var environment: [String: String] = [:]
        for entry in envData.split(separator: 0) {
            let text = String(decoding: entry, as: UTF8.self)
            guard let equals = text.firstIndex(of: "=") else { continue }
            environment[String(text[..<equals])] = String(text[text.index(after: equals)...])
        }
        let id = "\(WebServerFixture.projectID)/env-1/build.rejected"
        let expected = [
            "PIXELHOOK_EVENT": "build.rejected",
            "PIXELHOOK_PROJECT_ID": WebServerFixture.projectID,
            "PIXELHOOK_UPLOAD_ID": "env-1",
            "PIXELHOOK_FILE_URL": "",
            "PIXELHOOK_STATUS": "Reject",
            "PIXELHOOK_OBJECTION": "Caf\u{e9} \u{2014} \u{6771}\u{4eac} \u{1F680} \u{e9} \"quoted\"",
            "PIXELHOOK_TIMESTAMP": "2026-03-29T15:00:00.000+02:00",
            "PIXELHOOK_PAYLOAD": "\(server.spool)/deliveries/\(id).json",
            "PIXELHOOK_DELIVERY": id,
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
        ]
        // /bin/sh itself may add these three.
        let shellOwn: Set = ["PWD", "SHLVL", "_"]
        for (key, value) in expected {
            #expect(environment[key] == value, "\(key)")
        }
        let extra = Set(environment.keys).subtracting(expected.keys).subtracting(shellOwn)
        #expect(extra.isEmpty, "leaked into the handler's environment: \(extra.sorted().map { "\($0)=\(environment[$0]!)" })")
        #expect(FileManager.default.contents(atPath: "\(server.spool)/deliveries/\(id).json") == body)
        #expect(server.lines(of: out + "/pwd.txt") == [server.handlers])
    }

    @Test("PIXELHOOK_HANDLER_TIMEOUT stops the handler and its background child", arguments: Gateway.allCases)
    func timeoutKillsTheWholeGroup(_ gateway: Gateway) throws {
        let server = try WebServerFixture(gateway, settings: ["PIXELHOOK_HANDLER_TIMEOUT": "1"])
        let out = server.directory
        try server.writeHandler(named: "default", """
            echo $$ > \(out)/handler.pid
            sleep 300 &
            echo $! > \(out)/grandchild.pid
            sleep 300
            """)

        let reply = try server.post(Payloads.event("build.downloading", uploadId: "hang-1", status: "Downloading Files"))
        #expect(reply.status == 200, "\(reply)")

        let results = try server.waitForHandlers(count: 1, timeout: 20)
        let result = try #require(results["\(WebServerFixture.projectID)/hang-1/build.downloading"], "\(results)")
        #expect(result["state"] == "timeout", "\(result)")

        for name in ["handler.pid", "grandchild.pid"] {
            let pid = try #require(server.lines(of: "\(out)/\(name)").first.flatMap { pid_t($0) }, "\(name) not written")
            // Killed processes may take a moment to be gone; a zombie counts as gone.
            let deadline = Date().addingTimeInterval(5)
            while ProcTable.isAlive(pid), Date() < deadline { usleep(20_000) }
            #expect(!ProcTable.isAlive(pid), "\(name) \(pid) is still running after the timeout")
        }
    }

    @Test("Two events of one build run one after the other, in arrival order", arguments: Gateway.allCases)
    func oneBuildRunsInOrder(_ gateway: Gateway) throws {
        let server = try WebServerFixture(gateway)
        try server.writeHandler(named: "default", """
            echo "start $PIXELHOOK_EVENT $(date +%s.%N)" >> \(server.directory)/times.log
            sleep 1
            echo "end $PIXELHOOK_EVENT $(date +%s.%N)" >> \(server.directory)/times.log
            """)

        let first = try server.post(Payloads.event("build.uploaded", uploadId: "seq-1"))
        let second = try server.post(Payloads.event("build.downloading", uploadId: "seq-1", status: "Downloading Files"))
        #expect(first.status == 200 && second.status == 200, "\(first) \(second)")

        try server.waitForHandlers(count: 2, timeout: 20)
        let entries = server.lines(of: server.directory + "/times.log").map { $0.split(separator: " ").map(String.init) }
        #expect(entries.map { "\($0[0]) \($0[1])" } == [
            "start build.uploaded", "end build.uploaded", "start build.downloading", "end build.downloading",
        ], "\(entries)")
        let times = entries.compactMap { Double($0[2]) }
        #expect(times.count == 4 && times == times.sorted(), "intervals overlap: \(entries)")
    }
}
