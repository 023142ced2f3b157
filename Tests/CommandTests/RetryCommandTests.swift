import Foundation
import Testing
import PixelhookRuntime
import PixelhookTestSupport
#if canImport(Glibc)
import Glibc
#endif
import PixelhookCore

/// `pixelhook retry`, run as a process against a real spool.
@Suite struct RetryCommandTests {
    /// Fails (exit 3) the first time, when `marker` is absent, and creates it; appends a line
    /// to `runs` on every run.
    static let failsOnce = """
        echo "$PIXELHOOK_DELIVERY" >> "$FIXTURE/runs"
        [ -e "$FIXTURE/marker" ] && exit 0
        touch "$FIXTURE/marker"
        exit 3
        """

    @Test func aHandlerThatFailedOnceRunsAgainAndIsDoneThenNothingIsLeft() throws {
        let fixture = try CommandFixture()
        try fixture.handler("default", Self.failsOnce)
        let handled = try fixture.run(["handle"], stdin: CommandFixture.payload())
        #expect(handled.status == 1, "\(handled)")
        #expect(fixture.lineCount("runs") == 1)
        try StoredAttempts.endedLongAgo(spool: fixture.spool)  // past the back-off

        let dryRun = try fixture.run(["retry", "--dry-run"])
        #expect(dryRun.status == 0)
        #expect(dryRun.stdout == "would run p1/u1/build.approved (now failed (exit 3))\n")
        #expect(fixture.lineCount("runs") == 1, "a dry run runs nothing")

        let retried = try fixture.run(["retry"])
        #expect(retried.status == 0, "\(retried)")
        #expect(retried.stdout == "p1/u1/build.approved: done (was failed (exit 3))\n")
        #expect(retried.stderr.isEmpty)
        #expect(fixture.lineCount("runs") == 2)
        #expect(fixture.read(CommandFixture.spoolFiles.companionPath(DeliveryKey("p1/u1/build.approved"), .result))?.contains(#""state":"done""#) == true)

        let again = try fixture.run(["retry"])
        #expect(again.status == 0)
        #expect(again.stdout.isEmpty, "nothing to retry: silent for cron")
        #expect(fixture.lineCount("runs") == 2)
    }

    @Test func exit75AndTimeoutsAreRetriedButDoneIsNot() throws {
        let fixture = try CommandFixture()
        fixture.settings["PIXELHOOK_HANDLER_TIMEOUT"] = "1"
        try fixture.handler("build.uploaded", #"[ -e "$FIXTURE/fixed" ] || exit 75"#)
        try fixture.handler("build.downloading", #"[ -e "$FIXTURE/fixed" ] || sleep 10"#)
        try fixture.handler("build.extracting", #"echo "$PIXELHOOK_EVENT" >> "$FIXTURE/runs""#)
        for event in ["build.uploaded", "build.downloading", "build.extracting"] {
            _ = try fixture.run(["handle"], stdin: CommandFixture.payload(event: event))
        }
        try StoredAttempts.endedLongAgo(spool: fixture.spool)  // past the back-off
        #expect(fixture.lineCount("runs") == 1)
        FileManager.default.createFile(atPath: fixture.directory + "/fixed", contents: nil)
        let retried = try fixture.run(["retry"])
        #expect(retried.stdout == """
            p1/u1/build.uploaded: done (was retry (exit 75))
            p1/u1/build.downloading: done (was timeout (stopped after 1 s))

            """, "\(retried)")
        #expect(fixture.lineCount("runs") == 1, "a done delivery is not run again")
    }

    @Test(arguments: ["handle", "run-queue"])
    func aHandlerKilledWithItsSupervisorRunsAgain(supervisor: String) throws {
        let fixture = try CommandFixture()
        let (process, handler) = try Self.startHangingHandler(fixture, runner: supervisor)
        // The supervisor first: killed the other way round, it could see its handler die and
        // write that result before its own SIGKILL arrived. The handler leads its own process
        // group (SPEC: stopped with its whole group).
        #expect(kill(process.pid, SIGKILL) == 0)
        #expect(fixture.wait(process).status == nil, "killed by the signal")
        #expect(kill(-handler, SIGKILL) == 0)

        #expect(!fixture.exists(CommandFixture.spoolFiles.companionPath(DeliveryKey("p1/u1/build.approved"), .result)), "the runner died before writing a result")
        let retried = try fixture.run(["retry"])
        #expect(retried.status == 0, "\(retried)")
        #expect(retried.stdout == "p1/u1/build.approved: done (was never finished)\n")
        #expect(fixture.lineCount("runs") == 2)
    }

    /// SPEC: handlers of one build never run at the same time, and the cap counts every running
    /// handler. The handler holds the build's lock and its slot itself (fd 3 and 4), so a runner
    /// killed mid-run lets go of neither while its handler lives on: `retry` leaves the build
    /// alone instead of starting the same delivery beside it. Once the handler ends, the lock is free.
    @Test(arguments: ["handle", "run-queue"])
    func aHandlerWhoseRunnerIsKilledKeepsItsBuildLockedAndItsSlot(runner: String) throws {
        let fixture = try CommandFixture()
        let (process, handler) = try Self.startHangingHandler(fixture, runner: runner)
        defer { kill(-handler, SIGKILL) }  // its own process group
        #expect(kill(process.pid, SIGKILL) == 0)
        #expect(fixture.wait(process).status == nil, "killed by the signal")
        #expect(kill(handler, 0) == 0, "the handler runs on without its runner")

        let lockPath = SpoolLayout.lockPath(in: fixture.spoolLayout.buildDirectory(BuildID("p1/u1")))
        let lock = open(lockPath, O_RDWR | O_CLOEXEC)
        #expect(lock >= 0)
        defer { close(lock) }
        let lockWasFree = flock(lock, LOCK_EX | LOCK_NB) == 0
        if lockWasFree { flock(lock, LOCK_UN) }
        #expect(!lockWasFree, "the build's lock went with the runner")
        let retried = try fixture.run(["retry"])
        #expect(retried.status == 0, "\(retried)")
        // Silent: a delivery whose handler is running has no result to retry yet.
        #expect(retried.stdout.isEmpty, "\(retried)")
        #expect(fixture.lineCount("runs") == 1, "started beside the running handler: \(fixture.read("runs") ?? "")")
        // The slot: the handler's fd 4 is one of the user's slot files, its flock held there.
        let slot = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(handler)/fd/4")) ?? ""
        #expect(slot.hasPrefix(HandlerSlots.userDirectory() + "/"), "fd 4 is \(slot.debugDescription)")
        let slotLocks = (try? String(contentsOfFile: "/proc/\(handler)/fdinfo/4", encoding: .utf8)) ?? ""
        #expect(slotLocks.contains("FLOCK"), "no flock on fd 4: \(slotLocks)")

        #expect(kill(-handler, SIGKILL) == 0)
        #expect(fixture.eventually { flock(lock, LOCK_EX | LOCK_NB) == 0 }, "the lock outlived its handler")
        flock(lock, LOCK_UN)
        let after = try fixture.run(["retry"])
        #expect(after.stdout == "p1/u1/build.approved: done (was never finished)\n", "\(after)")
        #expect(fixture.lineCount("runs") == 2)
    }

    @Test func twoRetriesAtOnceRunADeliveryExactlyOnce() throws {
        let fixture = try CommandFixture()
        // Slow enough that the two retries overlap.
        try fixture.handler("default", """
            echo "$PIXELHOOK_DELIVERY" >> "$FIXTURE/runs"
            [ -e "$FIXTURE/marker" ] || { touch "$FIXTURE/marker"; exit 3; }
            sleep 1
            """)
        _ = try fixture.run(["handle"], stdin: CommandFixture.payload())
        #expect(fixture.lineCount("runs") == 1)
        try StoredAttempts.endedLongAgo(spool: fixture.spool)  // past the back-off

        let first = try fixture.start(["retry"])
        let second = try fixture.start(["retry"])
        let outcomes = [fixture.wait(first), fixture.wait(second)]
        #expect(outcomes.allSatisfy { $0.status == 0 }, "\(outcomes)")
        #expect(fixture.lineCount("runs") == 2, "ran once more, not twice: \(fixture.read("runs") ?? "")")
        let said = outcomes.map(\.stdout).sorted()
        #expect(said.contains("p1/u1/build.approved: done (was failed (exit 3))\n"), "\(said)")
    }

    @Test func aBuildWhoseHandlersAreRunningIsLeftForTheNextRetry() throws {
        let fixture = try CommandFixture()
        try fixture.handler("default", "exit 3")
        _ = try fixture.run(["handle"], stdin: CommandFixture.payload())
        try StoredAttempts.endedLongAgo(spool: fixture.spool)  // due: what is skipped is said
        let lock = open(SpoolLayout.lockPath(in: fixture.spoolLayout.buildDirectory(BuildID("p1/u1"))), O_RDWR)
        #expect(lock >= 0)
        defer { close(lock) }
        #expect(flock(lock, LOCK_EX) == 0)
        let retried = try fixture.run(["retry"])
        #expect(retried.status == 0)
        #expect(retried.stdout == "skipped p1/u1: its handlers are running now; the next retry will see it\n")
    }

    @Test func anotherRetryHoldingTheSpoolLockMeansNothingIsDone() throws {
        let fixture = try CommandFixture()
        try fixture.handler("default", "exit 3")
        _ = try fixture.run(["handle"], stdin: CommandFixture.payload())
        let lock = open(fixture.spoolLayout.retryLock, O_RDWR | O_CREAT, 0o600)
        defer { close(lock) }
        #expect(flock(lock, LOCK_EX) == 0)
        let retried = try fixture.run(["retry"])
        #expect(retried.status == 0)
        #expect(retried.stdout.hasPrefix("another retry is running"))
        #expect(fixture.read(CommandFixture.spoolFiles.companionPath(DeliveryKey("p1/u1/build.approved"), .result))?.contains(#""exitCode":3"#) == true)
    }

    /// Starts `runner` (`handle`, or `run-queue` on a stored delivery) with a handler whose first
    /// run notes its pid and then sleeps until killed; later runs are done at once. Returns the
    /// runner and the handler's pid (the leader of its own process group).
    static func startHangingHandler(_ fixture: CommandFixture, runner: String) throws -> (CommandFixture.Started, pid_t) {
        try fixture.handler("default", """
            echo run >> "$FIXTURE/runs"
            [ -e "$FIXTURE/marker" ] && exit 0
            touch "$FIXTURE/marker"
            echo $$ > "$FIXTURE/handler.pid"
            exec sleep 60
            """)
        let process = runner == "handle"
            ? try fixture.start(["handle"], stdin: CommandFixture.payload())
            : try fixture.start(["run-queue", try fixture.store()])
        #expect(fixture.eventually { fixture.read("handler.pid")?.hasSuffix("\n") == true })
        let handler = try #require(pid_t(fixture.read("handler.pid")!.trimmingCharacters(in: .whitespacesAndNewlines)))
        return (process, handler)
    }
}
