import Foundation
import PixelhookTestSupport
import PixelhookCore
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The example handlers of `examples/handlers/`, run for real: through `pixelhook handle`
/// (the environment pixelhook gives them) and directly (to choose which JSON tool the alert
/// finds), against a local HTTP server standing in for Slack.
@Suite(.timeLimit(.minutes(1)))
struct ExampleHandlerTests {
    static let project = "664f1a2b3c4d5e6f7a8b9c0d"
    /// Quotes, a backslash, line breaks (one trailing), a tab, a control character, non-ASCII.
    static let objection = "Build has \"Game.pak\" in C:\\Paks\nsecond line\twith tab \u{1} é 東京 🚀\n"

    /// A copy of the example handlers with `settings` as their handlers.env, an activity log in
    /// the scratch directory, and a spool beside them.
    final class Setup {
        let scratch: TemporaryDirectory
        var handlers: String { scratch.path + "/handlers" }
        var activityLog: String { scratch.path + "/activity.log" }

        init(_ settings: [String: String] = [:]) throws {
            scratch = try TemporaryDirectory(prefix: "pixelhook-client")
            let examples = BuiltBinary.packageRoot + "/examples/handlers"
            try FileManager.default.copyItem(atPath: examples, toPath: handlers)
            var lines = ["ACTIVITY_LOG='\(activityLog)'"]
            for (key, value) in settings.sorted(by: { $0.key < $1.key }) {
                precondition(!value.contains("'"), "test settings are single-quoted")
                lines.append("\(key)='\(value)'")
            }
            try (lines.joined(separator: "\n") + "\n").write(toFile: handlers + "/handlers.env", atomically: true, encoding: .utf8)
        }

        /// `pixelhook handle < body` with these handlers: the handler runs in the foreground.
        func handle(_ envelope: Envelope) throws -> Finished {
            try Run.pixelhook(["handle"], environment: Run.environment([
                "PIXELHOOK_SPOOL": scratch.path + "/spool",
                "PIXELHOOK_HANDLERS": handlers,
                "PIXELHOOK_PROJECT_IDS": ExampleHandlerTests.project,
            ]), stdin: envelope.json.description)
        }

        /// Runs one handler directly, with the environment pixelhook would give it and `path`.
        func run(_ name: String, _ envelope: Envelope, path: String = "/usr/local/bin:/usr/bin:/bin") throws -> Finished {
            try Run.process(handlers + "/" + name, [], environment: [
                "PATH": path, "LANG": "C.UTF-8",
                "PIXELHOOK_EVENT": envelope.event, "PIXELHOOK_PROJECT_ID": envelope.projectId,
                "PIXELHOOK_UPLOAD_ID": envelope.uploadId ?? "", "PIXELHOOK_FILE_URL": envelope.fileUrl ?? "",
                "PIXELHOOK_STATUS": envelope.status, "PIXELHOOK_OBJECTION": envelope.objection ?? "",
                "PIXELHOOK_TIMESTAMP": envelope.timestamp, "PIXELHOOK_PAYLOAD": "/dev/null",
                "PIXELHOOK_DELIVERY": "\(envelope.projectId)/\(envelope.uploadId ?? "~none")/\(envelope.event)",
            ], directory: handlers)
        }

        var activity: [String] { scratch.lines("activity.log") }
    }

    static func envelope(_ stage: Pipeline.Stage, uploadId: String = "665a2b3c4d5e6f7a8b9c0e1f", objection: String? = nil) -> Envelope {
        EventFactory.envelope(stage, projectId: project, uploadId: uploadId, objection: objection,
                              timestamp: "2026-03-29T15:00:00.000Z")
    }

    static func expectedAlert(uploadId: String = "665a2b3c4d5e6f7a8b9c0e1f") -> String {
        "Streampixel rejected build \(uploadId) of project \(project): \(objection)"
    }

    // MARK: build.rejected

    @Test("build.rejected through pixelhook handle posts valid JSON carrying the objection exactly")
    func alertThroughHandle() throws {
        let slack = try RecordingServer()
        let setup = try Setup(["ALERT_WEBHOOK_URL": slack.url])
        let run = try setup.handle(Self.envelope(Pipeline.rejected, objection: Self.objection))
        #expect(run.status == 0, "\(run)")

        let requests = slack.requests
        try #require(requests.count == 1, "\(run)")
        #expect(requests[0].contentType == "application/json")
        let json = try #require(requests[0].json, "not JSON: \(requests[0].text)")
        #expect(json.keys.sorted() == ["text"])
        #expect(json["text"] as? String == Self.expectedAlert())

        // One activity line, the objection's line breaks and tab flattened into spaces.
        #expect(setup.activity.count == 1, "\(setup.activity)")
        #expect(setup.activity.first?.hasPrefix("2026-03-29T15:00:00.000Z build.rejected project=\(Self.project) upload=665a2b3c4d5e6f7a8b9c0e1f status=Reject objection=") == true,
                "\(setup.activity)")
        #expect(setup.activity.first?.contains("second line with tab") == true, "\(setup.activity)")
    }

    /// Bin directories holding only what the handlers need, to make the alert take each of its
    /// three ways of writing JSON.
    static func tools(_ jsonTool: String, in scratch: TemporaryDirectory) throws -> String {
        let bin = scratch.path + "/bin-" + jsonTool
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        for tool in ["dirname", "tr", "mkdir", "curl", jsonTool] {
            try FileManager.default.createSymbolicLink(atPath: bin + "/" + tool, withDestinationPath: try InstalledTool.path(tool))
        }
        return bin
    }

    @Test("the alert's JSON is exact whichever tool writes it", arguments: ["jq", "python3", "awk"])
    func alertJSONTools(tool: String) throws {
        let slack = try RecordingServer()
        let setup = try Setup(["ALERT_WEBHOOK_URL": slack.url])
        let path = try Self.tools(tool, in: setup.scratch)
        let run = try setup.run("build.rejected", Self.envelope(Pipeline.rejected, objection: Self.objection), path: path)
        #expect(run.status == 0, "\(run)")
        let request = try #require(slack.requests.first, "\(run)")
        let json = try #require(request.json, "not JSON (\(tool)): \(request.text)")
        #expect(json["text"] as? String == Self.expectedAlert(), "\(tool): \(request.text)")
    }

    @Test("ALERT_FIELD=content posts Discord's field")
    func discordField() throws {
        let discord = try RecordingServer()
        let setup = try Setup(["ALERT_WEBHOOK_URL": discord.url, "ALERT_FIELD": "content"])
        let run = try setup.run("build.rejected", Self.envelope(Pipeline.rejected, objection: Self.objection))
        #expect(run.status == 0, "\(run)")
        let json = try #require(discord.requests.first?.json)
        #expect(json.keys.sorted() == ["content"] && json["content"] as? String == Self.expectedAlert())
    }

    @Test("no ALERT_WEBHOOK_URL: logs and prints the alert, posts nothing, exit 0")
    func alertWithoutURL() throws {
        let setup = try Setup()
        let run = try setup.run("build.rejected", Self.envelope(Pipeline.rejected, objection: "Too big."))
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.contains("Streampixel rejected build 665a2b3c4d5e6f7a8b9c0e1f of project \(Self.project): Too big."), "\(run)")
        #expect(setup.activity.count == 1)
    }

    @Test("the alert webhook unreachable: exit 75 (kept for retry); refusing: exit 1")
    func alertFailures() throws {
        let unreachable = try Setup(["ALERT_WEBHOOK_URL": "http://127.0.0.1:\(try unusedLocalPort())/hook"])
        let first = try unreachable.run("build.rejected", Self.envelope(Pipeline.rejected, objection: "x"))
        #expect(first.status == 75, "\(first)")

        let refusing = try RecordingServer(status: 500)
        let setup = try Setup(["ALERT_WEBHOOK_URL": refusing.url])
        let second = try setup.run("build.rejected", Self.envelope(Pipeline.rejected, objection: "x"))
        #expect(second.status == 1, "\(second)")
        #expect(refusing.requests.count == 1)
    }

    // MARK: build.approved

    @Test("build.approved runs DEPLOY_COMMAND with the payload's environment, in the handlers directory")
    func deploy() throws {
        let setup = try Setup()
        let out = setup.scratch.path
        try setup.scratch.write("handlers/handlers.env", """
            ACTIVITY_LOG='\(setup.activityLog)'
            DEPLOY_COMMAND='env > \(out)/deploy.env; pwd > \(out)/deploy.pwd; cat "$PIXELHOOK_PAYLOAD" > \(out)/deploy.payload'

            """)
        let envelope = Self.envelope(Pipeline.stages[5], uploadId: "deploy-1")
        let run = try setup.handle(envelope)
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.contains(#""state":"done""#), "\(run)")

        var environment: [String: String] = [:]
        for line in setup.scratch.lines("deploy.env") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            environment[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        #expect(environment["PIXELHOOK_EVENT"] == "build.approved")
        #expect(environment["PIXELHOOK_PROJECT_ID"] == Self.project)
        #expect(environment["PIXELHOOK_UPLOAD_ID"] == "deploy-1")
        #expect(environment["PIXELHOOK_FILE_URL"] == "https://cdn.streampixel.io/builds/my-build.zip")
        #expect(environment["PIXELHOOK_STATUS"] == "Approved")
        #expect(environment["PIXELHOOK_DELIVERY"] == "\(Self.project)/deploy-1/build.approved")
        #expect(setup.scratch.lines("deploy.pwd") == [setup.handlers])
        #expect(setup.scratch.read("deploy.payload") == envelope.json.description)
        #expect(setup.activity.count == 1 && setup.activity[0].contains("build.approved"), "\(setup.activity)")
    }

    @Test("DEPLOY_COMMAND's exit status is the handler's: 75 asks for a retry, others fail", arguments: [
        ("exit 0", Int32(0)), ("exit 75", Int32(75)), ("exit 3", Int32(1)),
    ])
    func deployStatus(command: String, handleStatus: Int32) throws {
        let setup = try Setup(["DEPLOY_COMMAND": command])
        let run = try setup.handle(Self.envelope(Pipeline.stages[5], uploadId: "status-1"))
        #expect(run.status == handleStatus, "\(run)")
    }

    @Test("empty DEPLOY_COMMAND: logged, nothing deployed, exit 0")
    func noDeploy() throws {
        let setup = try Setup(["DEPLOY_COMMAND": ""])
        let run = try setup.run("build.approved", Self.envelope(Pipeline.stages[5]))
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.contains("nothing deployed"), "\(run)")
        #expect(setup.activity.count == 1)
    }

    // MARK: build.distributing, default, webhook.test

    @Test("build.distributing runs TEST_COMMAND with the payload's environment")
    func kickOffTests() throws {
        let setup = try Setup(["TEST_COMMAND": #"echo "$PIXELHOOK_EVENT $PIXELHOOK_UPLOAD_ID $PIXELHOOK_FILE_URL" > tests.started"#])
        let run = try setup.handle(Self.envelope(Pipeline.stages[4], uploadId: "test-1"))
        #expect(run.status == 0, "\(run)")
        #expect(setup.scratch.lines("handlers/tests.started") == ["build.distributing test-1 https://cdn.streampixel.io/builds/my-build.zip"], "\(run)")
        #expect(setup.activity.count == 1 && setup.activity[0].contains("build.distributing"), "\(setup.activity)")
    }

    @Test("every event gets exactly one activity line, in order, through pixelhook handle")
    func activityLog() throws {
        let setup = try Setup(["DEPLOY_COMMAND": ""])
        for stage in Pipeline.stages {
            let run = try setup.handle(Self.envelope(stage, uploadId: "log-1"))
            #expect(run.status == 0, "\(run)")
        }
        #expect(try setup.handle(EventFactory.test(timestamp: "2026-03-29T14:30:00.000Z")).status == 0)
        #expect(setup.activity.map { $0.split(separator: " ")[1] } == Pipeline.stages.map { Substring($0.event) } + ["webhook.test"],
                "\(setup.activity)")
        #expect(setup.activity[0] == "2026-03-29T15:00:00.000Z build.uploaded project=\(Self.project) upload=log-1 status=pending")
        #expect(setup.activity.last == "2026-03-29T14:30:00.000Z webhook.test project=test_project_id upload=test_upload_id status=test")
    }
}
