import Testing
@testable import PixelhookCore

@Suite("BuildReport")
struct BuildReportTests {
    static let minute = 60_000
    static let hour = 3_600_000
    /// 2026-03-29T14:30:00.000Z, the fixture timestamp.
    static let start = EpochTime.milliseconds(iso8601: Fixture.timestamp)!

    /// A delivery of `event` sent `sentAfter` ms after `start`, received 300 ms later.
    static func entry(_ event: String, upload: String? = Fixture.uploadId, sentAfter offset: Int,
                      objection: String? = nil, result: HandlerResult? = done, name: String? = nil) -> StoredBuild.Entry {
        let timestamp = EpochTime.iso8601(milliseconds: start + offset)
        let body = Fixture.payload(event: event, uploadId: upload, objection: objection, timestamp: timestamp)
        return StoredBuild.Entry(name: name ?? event, body: body, receivedAt: start + offset + 300, result: result)
    }

    static func build(upload: String? = Fixture.uploadId, locked: Bool = false, _ entries: [StoredBuild.Entry]) -> StoredBuild {
        StoredBuild(id: BuildID(projectId: Fixture.projectId, uploadId: upload), isLocked: locked, entries: entries)
    }

    static func result(_ state: HandlerResult.State, exitCode: Int? = nil, signal: Int? = nil, detail: String? = nil) -> HandlerResult {
        HandlerResult(state: state, handler: "/h/default", exitCode: exitCode, signal: signal,
                      startedAt: "2026-03-29T14:30:01.000Z", durationMs: 5, outputBytes: 0, outputTruncated: false, detail: detail)
    }

    static let done = result(.done, exitCode: 0)

    static func report(_ build: StoredBuild, now: Int = start + hour / 2, stalledAfter: Int = 3600) -> BuildReport {
        BuildReport(build, now: now, stalledAfterSeconds: stalledAfter)
    }

    // MARK: Outcome

    @Test("approved once build.approved is stored")
    func approved() {
        let row = Self.report(Self.build([
            Self.entry("build.uploaded", sentAfter: 0), Self.entry("build.approved", sentAfter: 5 * Self.minute),
        ]))
        #expect(row.outcome == .approved)
        #expect(row.objection == nil)
        #expect(row.projectId == Fixture.projectId)
        #expect(row.uploadId == Fixture.uploadId)
    }

    @Test("rejected with the objection, even long after the last event")
    func rejected() {
        let row = Self.report(Self.build([
            Self.entry("build.uploaded", sentAfter: 0),
            Self.entry("build.rejected", sentAfter: Self.minute, objection: "Build contains unsupported file formats."),
        ]), now: Self.start + 48 * Self.hour)
        #expect(row.outcome == .rejected)
        #expect(row.objection == "Build contains unsupported file formats.")
        #expect(row.outcomeText(now: 0) == "rejected: Build contains unsupported file formats.")
    }

    @Test("in progress until PIXELHOOK_STALLED_AFTER passes without an event, then stalled")
    func inProgressThenStalled() {
        let build = Self.build([Self.entry("build.uploaded", sentAfter: 0), Self.entry("build.downloading", sentAfter: Self.minute)])
        let lastReceived = Self.start + Self.minute + 300
        #expect(Self.report(build, now: lastReceived + Self.hour).outcome == .inProgress)
        let stalled = Self.report(build, now: lastReceived + Self.hour + 1)
        #expect(stalled.outcome == .stalled)
        #expect(stalled.outcomeText(now: lastReceived + 3 * Self.hour + 2 * Self.minute) == "stalled: no event for 3h 2m")
        // The setting decides: 2h keeps it in progress.
        #expect(Self.report(build, now: lastReceived + Self.hour + 1, stalledAfter: 7200).outcome == .inProgress)
    }

    @Test("only webhook.test deliveries: a test, never stalled")
    func testOnly() {
        let build = Self.build(upload: nil, [Self.entry("webhook.test", upload: nil, sentAfter: 0, name: "webhook.test~n1")])
        let row = Self.report(build, now: Self.start + 100 * Self.hour)
        #expect(row.outcome == .test)
        #expect(row.uploadId == nil)
    }

    @Test("a lock held means handlers are running")
    func running() {
        let row = Self.report(Self.build(locked: true, [Self.entry("build.uploaded", sentAfter: 0, result: nil)]))
        #expect(row.isRunning)
        #expect(row.outcomeText(now: Self.start) == "in progress, handlers running")
    }

    // MARK: Stages

    @Test("stages in pipeline order whatever the arrival order, with the gaps between their timestamps")
    func stagesAndGaps() {
        let row = Self.report(Self.build([
            Self.entry("build.downloading", sentAfter: 65_000),
            Self.entry("build.uploaded", sentAfter: 0),
            Self.entry("build.extracting", sentAfter: 65_000 + 3 * Self.hour),
        ]))
        #expect(row.stages.map(\.event) == ["build.uploaded", "build.downloading", "build.extracting"])
        #expect(row.stages.map(\.sincePreviousMs) == [nil, 65_000, 3 * Self.hour])
        #expect(row.stages[0].timestamp == Fixture.timestamp)
        #expect(row.stages[0].status == "pending")
        #expect(row.stages[0].receivedAt == Self.start + 300)
        #expect(row.stages[1].delivery == "\(Fixture.projectId)/\(Fixture.uploadId)/build.downloading")
        #expect(row.firstReceivedAt == Self.start + 300)
        #expect(row.lastReceivedAt == Self.start + 65_000 + 3 * Self.hour + 300)
    }

    @Test("a payload that no longer parses still shows, its gap taken from receipt")
    func unreadablePayload() {
        let broken = StoredBuild.Entry(name: "build.saving", body: Array("{oops".utf8), receivedAt: Self.start + 10_300, result: nil)
        let row = Self.report(Self.build([Self.entry("build.uploaded", sentAfter: 0), broken]))
        #expect(row.stages.map(\.event) == ["build.uploaded", "build.saving"])
        #expect(row.stages[1].timestamp == nil)
        #expect(row.stages[1].sincePreviousMs == 10_000)
    }

    // MARK: Handlers

    @Test("each handler's state: done, failed with its exit code, timeout, retry, pending")
    func handlerStates() {
        let row = Self.report(Self.build([
            Self.entry("build.uploaded", sentAfter: 0),
            Self.entry("build.downloading", sentAfter: 1, result: Self.result(.failed, exitCode: 3, detail: "exit 3")),
            Self.entry("build.extracting", sentAfter: 2, result: Self.result(.timeout, signal: 15, detail: "stopped after 600 s")),
            Self.entry("build.saving", sentAfter: 3, result: Self.result(.retry, exitCode: 75)),
            Self.entry("build.distributing", sentAfter: 4, result: nil),
        ]))
        #expect(row.stages.map { $0.result?.summary ?? "pending" } == [
            "done", "failed (exit 3)", "timeout (stopped after 600 s)", "retry (exit 75)", "pending",
        ])
        let json = BuildReport.json([row]).description
        #expect(json.contains(#""handler":{"state":"failed","exitCode":3,"signal":null,"detail":"exit 3""#))
        #expect(json.contains(#""handler":{"state":"pending","exitCode":null,"signal":null,"detail":null,"startedAt":null,"durationMs":null,"attempts":null}"#))
        let table = BuildReport.table([row], now: Self.start)
        #expect(table.contains("failed (exit 3)"))
        #expect(table.split(separator: "\n").last?.hasSuffix("pending") == true)
    }

    // MARK: Rows

    @Test("newest first, by the last event received; filtered by projectId; limited")
    func rowsOrder() {
        let old = Self.build(upload: "old", [Self.entry("build.uploaded", upload: "old", sentAfter: 0)])
        let newest = Self.build(upload: "newest", [Self.entry("build.uploaded", upload: "newest", sentAfter: 2 * Self.hour)])
        let middle = Self.build(upload: "middle", [
            Self.entry("build.uploaded", upload: "middle", sentAfter: -Self.hour),
            Self.entry("build.approved", upload: "middle", sentAfter: Self.hour),
        ])
        let rows = BuildReport.rows([old, newest, middle], now: Self.start, stalledAfterSeconds: 3600)
        #expect(rows.map(\.uploadId) == ["newest", "middle", "old"])
        #expect(BuildReport.rows([old, newest, middle], now: 0, stalledAfterSeconds: 1, limit: 2).map(\.uploadId) == ["newest", "middle"])
        #expect(BuildReport.rows([old, newest], now: 0, stalledAfterSeconds: 1, projectId: "other").isEmpty)
        #expect(BuildReport.rows([old], now: 0, stalledAfterSeconds: 1, projectId: Fixture.projectId).count == 1)
        #expect(BuildReport.rows([Self.build(upload: "empty", [])], now: 0, stalledAfterSeconds: 1).isEmpty)
    }

    // MARK: Rendering

    @Test("JSON has the documented fields in order")
    func jsonShape() {
        let row = Self.report(Self.build([
            Self.entry("build.rejected", sentAfter: 0, objection: "no \"pak\""),
        ]))
        let expected = """
            {"builds":[{"projectId":"\(Fixture.projectId)","uploadId":"\(Fixture.uploadId)","outcome":"rejected",\
            "objection":"no \\"pak\\"","running":false,"firstReceivedAt":"2026-03-29T14:30:00.300Z",\
            "lastReceivedAt":"2026-03-29T14:30:00.300Z","events":[{"event":"build.rejected",\
            "delivery":"\(Fixture.projectId)/\(Fixture.uploadId)/build.rejected","status":"pending",\
            "timestamp":"2026-03-29T14:30:00.000Z","receivedAt":"2026-03-29T14:30:00.300Z","sincePreviousMs":null,\
            "handler":{"state":"done","exitCode":0,"signal":null,"detail":null,"startedAt":"2026-03-29T14:30:01.000Z",\
            "durationMs":5,"attempts":1}}]}]}
            """
        #expect(BuildReport.json([row]).description == expected)
        #expect(JSONScanner.isValid(Array(expected.utf8)))
        #expect(BuildReport.json([]).description == #"{"builds":[]}"#)
    }

    @Test("the table aligns columns and neutralises control characters from the sender")
    func table() {
        // The objection as the sender may escape it in JSON: ESC and a newline.
        let body = #"""
            {"event":"build.rejected","projectId":"\#(Fixture.projectId)","uploadId":"\#(Fixture.uploadId)",\#
            "fileUrl":null,"status":"Reject","objection":"bad\u001b[2Jfile\nnext","timestamp":"2026-03-29T14:32:05.000Z"}
            """#
        let rejected = StoredBuild.Entry(name: "build.rejected", body: Array(body.utf8), receivedAt: Self.start + 125_300, result: Self.done)
        let row = Self.report(Self.build([Self.entry("build.uploaded", sentAfter: 0), rejected]))
        #expect(row.objection == "bad\u{1B}[2Jfile\nnext")
        let lines = BuildReport.table([row], now: Self.start).split(separator: "\n").map(String.init)
        #expect(lines[0] == "\(Fixture.projectId)  \(Fixture.uploadId)  rejected: bad?[2Jfile?next")
        #expect(lines[1].hasPrefix("  event           sent  "))
        #expect(lines[2].hasPrefix("  build.uploaded  2026-03-29T14:30:00.000Z  2026-03-29T14:30:00.300Z  -      done"))
        #expect(lines[3].hasPrefix("  build.rejected  2026-03-29T14:32:05.000Z  2026-03-29T14:32:05.300Z  2m 5s  done"))
        #expect(lines.count == 4)
    }
}
