import Foundation
import Testing
import PixelhookCore
import PixelhookRuntime
#if canImport(Glibc)
import Glibc
#endif

/// SPEC "Retries": a handler whose runner died while its process group lives on keeps its
/// build locked (the group holds the lock through the handler's fd 3); once
/// `PIXELHOOK_HANDLER_TIMEOUT` has passed since it started, `retry` stops that group and runs
/// the delivery again, exactly once.
@Suite struct RetryOrphanCommandTests {
    /// First run: leaves a `sleep` child in its group, notes both pids, waits. Later: done.
    static let leavesAChild = """
        echo run >> "$FIXTURE/runs"
        [ -e "$FIXTURE/marker" ] && exit 0
        touch "$FIXTURE/marker"
        sleep 1000 &
        echo $! > "$FIXTURE/child.pid"
        echo $$ > "$FIXTURE/handler.pid"
        wait
        """
    static let running = CommandFixture.spoolFiles.companionPath(DeliveryKey("p1/u1/build.approved"), .running)

    /// Gone, or a zombie nobody reaped yet (a zombie holds no descriptor, so no lock).
    static func isGone(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return true }
        return stat[stat.index(close, offsetBy: 2)] == "Z"
    }

    /// Rewrites the start time in the runner's `EVENT.running` (its fifth field). Without one
    /// the test goes on, to show what `retry` then does.
    func markStarted(_ fixture: CommandFixture, at milliseconds: Int) throws {
        guard let text = fixture.read(Self.running) else {
            Issue.record("the runner left no \(Self.running)")
            return
        }
        var fields = text.split(separator: " ").map(String.init)
        try #require(fields.count == 6, "\(fields)")
        fields[4] = String(milliseconds)
        try fields.joined(separator: " ").write(toFile: fixture.directory + "/" + Self.running, atomically: true, encoding: .utf8)
    }

    @Test func aDeadRunnersGroupIsStoppedAfterTheTimeoutAndItsDeliveryRunsAgainOnce() throws {
        let fixture = try CommandFixture()
        fixture.settings["PIXELHOOK_HANDLER_TIMEOUT"] = "2"
        try fixture.handler("default", Self.leavesAChild)
        let runner = try fixture.start(["handle"], stdin: CommandFixture.payload())
        #expect(fixture.eventually { fixture.read("handler.pid")?.hasSuffix("\n") == true })
        let handler = try #require(pid_t(fixture.read("handler.pid")!.trimmingCharacters(in: .whitespacesAndNewlines)))
        let child = try #require(pid_t(fixture.read("child.pid")!.trimmingCharacters(in: .whitespacesAndNewlines)))
        defer { if !Self.isGone(child) { kill(child, SIGKILL) } }
        #expect(getpgid(child) == handler, "the child is in the handler's group")

        // The supervisor and the handler die; the child lives on, holding the build's lock.
        #expect(kill(runner.pid, SIGKILL) == 0)
        #expect(fixture.wait(runner).status == nil)
        #expect(kill(handler, SIGKILL) == 0)
        #expect(fixture.eventually { Self.isGone(handler) })
        #expect(!Self.isGone(child))

        // Before the timeout: the build is left alone. (The start is set to now, so that a slow
        // machine cannot have passed the 2 s already.)
        try markStarted(fixture, at: Clock.milliseconds())
        let early = try fixture.run(["retry"])
        #expect(early.status == 0 && early.stdout.isEmpty, "\(early)")
        #expect(!Self.isGone(child), "stopped before the timeout")
        #expect(fixture.lineCount("runs") == 1)

        // After it: a dry run says so and stops nothing; `retry` stops the group, runs it again.
        try markStarted(fixture, at: Clock.milliseconds() - 2500)
        let plan = try fixture.run(["retry", "--dry-run"])
        #expect(plan.stdout.hasPrefix("would stop the handler of p1/u1/build.approved: its runner died"), "\(plan)")
        #expect(!Self.isGone(child), "a dry run stopped it")
        let retried = try fixture.run(["retry"])
        #expect(retried.status == 0, "\(retried)")
        #expect(retried.stdout.hasPrefix("stopped the handler of p1/u1/build.approved: its runner died"), "\(retried)")
        #expect(retried.stdout.hasSuffix("\np1/u1/build.approved: done (was never finished)\n"), "\(retried)")
        #expect(fixture.eventually(timeout: 5) { Self.isGone(child) }, "the child of the dead handler lives on")
        #expect(fixture.lineCount("runs") == 2)
        #expect(!fixture.exists(Self.running), "the marker outlived its run")
        let result = fixture.read(CommandFixture.spoolFiles.companionPath(DeliveryKey("p1/u1/build.approved"), .result)).flatMap { HandlerResult(stored: Array($0.utf8)) }
        #expect(result?.attempts == 2, "the killed run counts as the first attempt")

        let again = try fixture.run(["retry"])
        #expect(again.stdout.isEmpty, "\(again)")
        #expect(fixture.lineCount("runs") == 2, "run again more than once")
    }

    /// A marker whose handler pid now names an unrelated process (a `sleep` leading a group of
    /// its own, which does not hold the build's lock) while the build is locked by someone
    /// else: nothing is signalled, and the build is left to its holder. (A safety check: old
    /// code signalled nothing at all.)
    @Test func aStaleMarkerNamingAnotherProcessStopsNothing() throws {
        let fixture = try CommandFixture()
        fixture.settings["PIXELHOOK_HANDLER_TIMEOUT"] = "1"
        try fixture.handler("default", #"echo run >> "$FIXTURE/runs""#)
        _ = try fixture.store()
        let bystander = try fixture.start(["--version"], launcher: ["/usr/bin/setsid", "/bin/sh", "-c", "exec sleep 30", "sh"])
        defer { kill(bystander.pid, SIGKILL); _ = fixture.wait(bystander) }
        #expect(fixture.eventually { getpgid(bystander.pid) == bystander.pid }, "setsid: a group of its own")
        let start = try #require(ProcessStart.ticks(bystander.pid))
        // The runner named is gone; the "handler" is the bystander, started 10 s ago.
        let line = "999999 1 \(bystander.pid) \(start) \(Clock.milliseconds() - 10_000) 1\n"
        try line.write(toFile: fixture.directory + "/" + Self.running, atomically: true, encoding: .utf8)
        let lock = open(SpoolLayout.lockPath(in: fixture.spoolLayout.buildDirectory(BuildID("p1/u1"))), O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        #expect(lock >= 0 && flock(lock, LOCK_EX) == 0)

        let retried = try fixture.run(["retry"])
        #expect(retried.stdout.isEmpty, "\(retried)")
        #expect(!Self.isGone(bystander.pid), "an unrelated process was signalled")

        close(lock)
        let after = try fixture.run(["retry"])
        #expect(after.stdout == "p1/u1/build.approved: done (was never finished)\n", "\(after)")
        #expect(!Self.isGone(bystander.pid))
    }
}

/// A process's start time in clock ticks after boot (field 22 of `/proc/PID/stat`).
enum ProcessStart {
    static func ticks(_ pid: pid_t) -> Int? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 19 ? Int(fields[19]) : nil
    }
}
