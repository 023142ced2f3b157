import Testing
import PixelhookCore

/// SPEC "Retries": 1 min after the first attempt, doubling, at most 1 h; `gave up` after
/// `PIXELHOOK_RETRY_LIMIT` attempts in all (0: never).
@Suite struct RetryBackoffTests {
    @Test func theWaitDoublesFromOneMinuteAndStopsAtOneHour() {
        let waits = (1...9).map { RetryBackoff.seconds(afterAttempts: $0) }
        #expect(waits == [60, 120, 240, 480, 960, 1920, 3600, 3600, 3600])
        #expect(RetryBackoff.seconds(afterAttempts: 1000) == 3600, "no overflow on a long run")
    }

    static func failed(endedAt iso: String, attempts: Int) -> HandlerResult {
        HandlerResult(state: .failed, handler: "/h", exitCode: 3, signal: nil, startedAt: iso, durationMs: 0,
                      outputBytes: 0, outputTruncated: false, detail: "exit 3", attempts: attempts)
    }

    @Test func aDeliveryIsDueOnceItsWaitHasPassedSinceItsLastAttemptEnded() throws {
        let ended = try #require(EpochTime.milliseconds(iso8601: "2026-03-29T12:00:00.000Z"))
        let second = Self.failed(endedAt: "2026-03-29T12:00:00.000Z", attempts: 2)
        #expect(RetryBackoff.dueAt(second) == ended + 120_000)
        #expect(!RetryBackoff.isDue(second, now: ended + 119_999))
        #expect(RetryBackoff.isDue(second, now: ended + 120_000))
        #expect(RetryBackoff.isDue(Self.failed(endedAt: "garbage", attempts: 1), now: 0), "an unreadable time: at once")
    }

    @Test func theLimitTurnsARerunnableResultIntoGaveUpButNeverADoneOne() {
        let result = Self.failed(endedAt: "2026-03-29T12:00:00.000Z", attempts: 1)
        #expect(result.counted(asAttempt: 9, limit: 10).state == .failed)
        #expect(result.counted(asAttempt: 10, limit: 10).state == .gaveUp)
        #expect(result.counted(asAttempt: 1000, limit: 0).state == .failed, "0: never give up")
        var done = result
        done.state = .done
        #expect(done.counted(asAttempt: 10, limit: 10).state == .done)
        let gaveUp = result.counted(asAttempt: 10, limit: 10)
        #expect(gaveUp.summary == "gave up after 10 attempts (exit 3)")
        #expect(gaveUp.json.description.contains(#""state":"gave_up""#))
        #expect(HandlerResult(stored: Array(gaveUp.json.description.utf8)) == gaveUp, "stored and read back")
        #expect(result.counted(asAttempt: 2, limit: 10).summary == "failed (exit 3), attempt 2")
    }

    @Test func theRetryLimitIsAWholeNumberFrom0To1000() throws {
        #expect(try Settings.parse([:]).retryLimit == 10)
        #expect(try Settings.parse(["PIXELHOOK_RETRY_LIMIT": "0"]).retryLimit == 0)
        #expect(throws: SettingsError("PIXELHOOK_RETRY_LIMIT must be a whole number from 0 to 1000, got 1001")) {
            try Settings.parse(["PIXELHOOK_RETRY_LIMIT": "1001"])
        }
        #expect(throws: SettingsError("PIXELHOOK_RETRY_LIMIT must be a whole number from 0 to 1000, got -1")) {
            try Settings.parse(["PIXELHOOK_RETRY_LIMIT": "-1"])
        }
    }
}
