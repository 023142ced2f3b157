import Foundation
import Testing

/// Bad input to `send` and `simulate`: one line on stderr, a non-zero exit, nothing posted.
@Suite(.timeLimit(.minutes(1)))
struct ArgumentErrorTests {
    @Test("bad arguments", arguments: [
        (["simulate", "URL", "--project-id", "p", "--reject-at", "nowhere", "--objection", "x"], "--reject-at"),
        (["simulate", "URL", "--project-id", "p", "--reject-at", "approved", "--objection", "x"], "--reject-at"),
        (["simulate", "URL", "--project-id", "p", "--reject-at", "extracting"], "--objection"),
        (["simulate", "URL", "--project-id", "p", "--objection", "x"], "--reject-at"),
        (["simulate", "URL", "--project-id", "p", "--interval", "-5"], "--interval"),
        (["simulate", "URL", "--project-id", "p", "--interval", "soon"], "--interval"),
        (["simulate", "URL", "--project-id", "p", "--timeout", "0"], "--timeout"),
        (["simulate", "ftp://127.0.0.1/hook", "--project-id", "p"], "http://"),
        (["simulate", "http:///hook", "--project-id", "p"], "host"),
        (["simulate"], "url"),
        (["send", "URL", "--objection", "x"], "--objection"),
        (["send", "URL", "--event", "build.queued"], "--status"),
        (["send", "URL", "--event", ""], "--event"),
        (["send", "URL", "--timeout", "-1"], "--timeout"),
        (["send", "URL", "--project-id", ""], "--project-id"),
        (["send", "not a url"], "http://"),
    ] as [([String], String)])
    func badArguments(arguments: [String], mentions: String) throws {
        let server = try RecordingServer()
        let run = try Run.pixelhook(arguments.map { $0 == "URL" ? server.url : $0 })
        #expect(run.status == 64, "\(run)")
        #expect(run.stderrLines.count == 1, "one line: \(run)")
        #expect(run.stderr.hasPrefix("pixelhook: ") && run.stderr.lowercased().contains(mentions.lowercased()), "\(run)")
        #expect(run.stdout.isEmpty, "\(run)")
        #expect(server.requests.isEmpty, "nothing may be posted")
    }

    @Test("no project anywhere: one line naming --project-id and PIXELHOOK_PROJECT_IDS, exit 78", arguments: [
        ["simulate", "URL"], ["send", "URL", "--event", "build.approved"],
    ])
    func noProject(arguments: [String]) throws {
        let server = try RecordingServer()
        let run = try Run.pixelhook(arguments.map { $0 == "URL" ? server.url : $0 })
        #expect(run.status == 78, "\(run)")
        #expect(run.stderrLines.count == 1 && run.stderr.contains("--project-id") && run.stderr.contains("PIXELHOOK_PROJECT_IDS"), "\(run)")
        #expect(server.requests.isEmpty)
    }

    @Test("--help is written for the operator and exits 0", arguments: ["send", "simulate"])
    func help(command: String) throws {
        let run = try Run.pixelhook([command, "--help"])
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.contains("USAGE: pixelhook \(command) <url>"), "\(run)")
        #expect(run.stdout.contains("PIXELHOOK_PROJECT_IDS") && run.stdout.contains("--timeout"), "\(run)")
    }
}
