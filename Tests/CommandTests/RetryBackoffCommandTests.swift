import Foundation
import Testing
import PixelhookCore
import PixelhookRuntime

/// SPEC "Retries", through the binary: a handler that fails every time is run again only after
/// its back-off, given up after `PIXELHOOK_RETRY_LIMIT` attempts, and still run by `replay`.
/// Time is driven through the stored result (its attempt moved into the past), not by sleeping.
@Suite struct RetryBackoffCommandTests {
    static let alwaysFails = """
        echo run >> "$FIXTURE/runs"
        exit 3
        """
    static let result = CommandFixture.spoolFiles.companionPath(DeliveryKey("p1/u1/build.approved"), .result)

    /// Makes the stored attempt have ended `seconds` ago.
    func endAttempt(_ fixture: CommandFixture, secondsAgo seconds: Int) throws {
        let path = fixture.directory + "/" + Self.result
        let text = try #require(fixture.read(Self.result))
        var result = try #require(HandlerResult(stored: Array(text.utf8)))
        result.startedAt = EpochTime.iso8601(milliseconds: Clock.milliseconds() - seconds * 1000)
        result.durationMs = 0
        try (result.json.description + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }

    func stored(_ fixture: CommandFixture) -> HandlerResult? {
        fixture.read(Self.result).flatMap { HandlerResult(stored: Array($0.utf8)) }
    }

    @Test func aHandlerFailingEveryTimeIsSpacedByTheBackOffThenGivenUpAndReplayStillRunsIt() throws {
        let fixture = try CommandFixture()
        fixture.settings["PIXELHOOK_RETRY_LIMIT"] = "3"
        try fixture.handler("default", Self.alwaysFails)
        #expect(try fixture.run(["handle"], stdin: CommandFixture.payload()).status == 1)
        #expect(fixture.lineCount("runs") == 1)
        #expect(stored(fixture)?.attempts == 1)

        // 30 s after the first attempt: not yet (1 min).
        try endAttempt(fixture, secondsAgo: 30)
        let early = try fixture.run(["retry"])
        #expect(early.status == 0 && early.stdout.isEmpty, "\(early)")
        #expect(fixture.lineCount("runs") == 1, "ran before its back-off")
        let waiting = try fixture.run(["retry", "--dry-run"]).stdout
        #expect(waiting.hasPrefix("waiting p1/u1/build.approved (now failed (exit 3)): next attempt in "), "\(waiting)")
        #expect(["29s\n", "30s\n"].contains { waiting.hasSuffix("in " + $0) }, "\(waiting)")

        // 61 s: attempt 2.
        try endAttempt(fixture, secondsAgo: 61)
        let second = try fixture.run(["retry"])
        #expect(second.stdout == "p1/u1/build.approved: failed (exit 3), attempt 2 (was failed (exit 3))\n", "\(second)")
        #expect(fixture.lineCount("runs") == 2)
        #expect(stored(fixture)?.attempts == 2)
        let next = try fixture.run(["retry", "--dry-run"]).stdout
        #expect(next.hasSuffix("next attempt in 2m\n") || next.hasSuffix("next attempt in 1m 59s\n"), "\(next)")

        // The wait doubled: 119 s after attempt 2 is too early, 121 s is attempt 3, the last.
        try endAttempt(fixture, secondsAgo: 119)
        #expect(try fixture.run(["retry"]).stdout.isEmpty)
        #expect(fixture.lineCount("runs") == 2, "the back-off did not double")
        try endAttempt(fixture, secondsAgo: 121)
        let third = try fixture.run(["retry"])
        #expect(third.stdout == "p1/u1/build.approved: gave up after 3 attempts (exit 3) (was failed (exit 3), attempt 2)\n",
                "\(third)")
        #expect(fixture.lineCount("runs") == 3)
        #expect(stored(fixture)?.state == .gaveUp)

        // Shown by `builds`; left off the list `retry` reads.
        let table = try fixture.run(["builds"])
        #expect(table.stdout.contains("gave up after 3 attempts (exit 3)"), "\(table)")
        let json = try fixture.run(["builds", "--json"])
        #expect(json.stdout.contains(#""state":"gave_up""#) && json.stdout.contains(#""attempts":3"#), "\(json)")
        #expect(PendingBuilds.unfinished(spool: Spool(root: fixture.spool)).listed().isEmpty,
                "a build given up stays in unfinished/, read by every retry")
        // ... and by `show`, `check` and the metrics (SPEC "Retries").
        let shown = try fixture.run(["show", "p1/u1/build.approved"])
        #expect(shown.status == 0 && shown.stdout.contains("  state:           gave up\n"), "\(shown)")
        let check = try fixture.run(["check"])
        #expect(check.status == 1, "\(check)")
        #expect(check.stdout.contains("problem: 1 delivery gave up after PIXELHOOK_RETRY_LIMIT attempts and retry runs it no more: p1/u1/build.approved (pixelhook show p1/u1/build.approved says why; pixelhook replay p1/u1/build.approved runs it again)\n"), "\(check)")
        let metrics = try fixture.run(["metrics"])
        #expect(metrics.stdout.contains(#"pixelhook_handler_results{state="gave_up"} 1"#), "\(metrics)")

        // Never again by `retry`, however long ago.
        try endAttempt(fixture, secondsAgo: 86_400)
        #expect(try fixture.run(["retry"]).stdout.isEmpty)
        #expect(fixture.lineCount("runs") == 3, "retry ran a delivery it gave up")

        // `replay` runs it whatever its state, and counts the attempt.
        let replayed = try fixture.run(["replay", "u1"])
        #expect(replayed.status != 0, "\(replayed)")
        #expect(fixture.lineCount("runs") == 4)
        #expect(stored(fixture)?.attempts == 4)
    }

    @Test func dryRunSaysWhichDeliveriesWereGivenUp() throws {
        let fixture = try CommandFixture()
        fixture.settings["PIXELHOOK_RETRY_LIMIT"] = "1"
        try fixture.handler("build.approved", Self.alwaysFails)
        #expect(try fixture.run(["handle"], stdin: CommandFixture.payload()).status == 1)
        #expect(stored(fixture)?.state == .gaveUp, "the limit counts the first run")
        // A later delivery of the build that never finished keeps the build listed.
        _ = try fixture.store(event: "build.uploaded")
        let plan = try fixture.run(["retry", "--dry-run"])
        #expect(plan.stdout.contains("not running p1/u1/build.approved (now gave up after 1 attempt (exit 3)): replay runs it\n"),
                "\(plan)")
        #expect(plan.stdout.contains("would run p1/u1/build.uploaded (now never finished)\n"), "\(plan)")
    }

    @Test func aRetryLimitOutOfRangeIsAOneLineError() throws {
        let fixture = try CommandFixture()
        fixture.settings["PIXELHOOK_RETRY_LIMIT"] = "1001"
        let retried = try fixture.run(["retry"])
        #expect(retried.status == 78, "\(retried)")
        #expect(retried.stderr.contains("PIXELHOOK_RETRY_LIMIT must be a whole number from 0 to 1000, got 1001"), "\(retried)")
        #expect(retried.stderrLines.count == 1, "\(retried)")
    }
}
