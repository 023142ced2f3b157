import Foundation
import PixelhookTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `pixelhook simulate` against pixelhook itself under a real web server: the whole pipeline
/// reaches the handlers, one build, in order.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct SimulateTests {
    /// Runs `pixelhook simulate URL ARGUMENTS…` with a clean environment; returns its exit
    /// status and stdout.
    static func simulate(_ server: WebServerFixture, _ arguments: [String]) throws -> (status: Int32, stdout: String) {
        let outcome = try PixelhookRun.run(["simulate", server.url, "--project-id", WebServerFixture.projectID] + arguments,
                                           binary: server.binary, environment: ["PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"],
                                           separateStderr: false, timeout: 120)
        return (outcome.exitCode ?? outcome.signal ?? -1, outcome.stdout)
    }

    /// `runs.log` of the recording handler: `EVENT PROJECT/BUILD/EVENT` per run.
    static func recorded(_ server: WebServerFixture) -> [(event: String, build: String)] {
        server.runs.map { line in
            let parts = line.split(separator: " ")
            let delivery = parts.count > 1 ? parts[1].split(separator: "/") : []
            return (String(parts.first ?? ""), delivery.count == 3 ? String(delivery[1]) : "")
        }
    }

    @Test("the whole pipeline runs the handler of every stage, in order, for one new build", arguments: Gateway.allCases)
    func wholePipeline(_ gateway: Gateway) throws {
        let server = try WebServerFixture(gateway)
        try server.writeRecorder(named: "default")

        let run = try Self.simulate(server, [])
        #expect(run.status == 0, "\(run.stdout)")
        try server.waitForHandlers(count: 6, timeout: 30)

        let runs = Self.recorded(server)
        #expect(runs.map(\.event) == ["build.uploaded", "build.downloading", "build.extracting", "build.saving",
                                      "build.distributing", "build.approved"], "\(server.runs)")
        let builds = Set(runs.map(\.build))
        #expect(builds.count == 1, "one uploadId: \(builds)")
        #expect(run.stdout.hasPrefix("build \(builds.first ?? "?") of project \(WebServerFixture.projectID)\n"), "\(run.stdout)")
        #expect(run.stdout.contains(#"build.approved 200 {"received":true,"event":"build.approved","duplicate":false}"#), "\(run.stdout)")
    }

    @Test("--reject-at extracting: the handlers end with build.rejected and see no later stage", arguments: Gateway.allCases)
    func rejectedAtExtracting(_ gateway: Gateway) throws {
        let server = try WebServerFixture(gateway)
        try server.writeRecorder(named: "default")
        try server.writeHandler(named: "build.rejected", """
            echo "$PIXELHOOK_EVENT $PIXELHOOK_DELIVERY" >> \(server.directory)/runs.log
            printf '%s' "$PIXELHOOK_OBJECTION" > \(server.directory)/objection.txt
            """)

        let objection = "Missing \"Paks\" folder\nsee the log: é 🚀"
        let run = try Self.simulate(server, ["--reject-at", "extracting", "--objection", objection])
        #expect(run.status == 0, "\(run.stdout)")
        try server.waitForHandlers(count: 4, timeout: 30)

        let runs = Self.recorded(server)
        #expect(runs.map(\.event) == ["build.uploaded", "build.downloading", "build.extracting", "build.rejected"],
                "\(server.runs)")
        #expect(Set(runs.map(\.build)).count == 1, "\(server.runs)")
        #expect(!runs.contains { ["build.saving", "build.distributing", "build.approved"].contains($0.event) })
        #expect(try String(contentsOfFile: server.directory + "/objection.txt", encoding: .utf8) == objection)
    }
}
