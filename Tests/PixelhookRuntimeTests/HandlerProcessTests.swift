import Foundation
import Testing
@testable import PixelhookRuntime

@Suite struct HandlerProcessTests {
    func process(_ scratch: ScratchSpool, _ script: String, timeout: Double = 10) throws -> HandlerProcess {
        try scratch.handler("h", script)
        let input = scratch.root + "/input"
        try Data("the body\n".utf8).write(to: URL(fileURLWithPath: input))
        return HandlerProcess(executable: scratch.handlers + "/h", payloadPath: input,
                              environment: ["ONLY": "this"], workingDirectory: scratch.handlers,
                              timeoutSeconds: timeout)
    }

    @Test func passesStdinEnvironmentAndWorkingDirectory() throws {
        let scratch = try ScratchSpool()
        let outcome = try process(scratch, #"cat; echo "$ONLY"; pwd; env | grep -c ."#).run()
        #expect(outcome.exitCode == 0)
        let lines = String(decoding: outcome.output, as: UTF8.self).split(separator: "\n")
        #expect(lines[0] == "the body")
        #expect(lines[1] == "this")
        #expect(lines[2] == Substring(scratch.handlers))
        // ONLY, plus PWD (and SHLVL on some shells) that sh sets itself.
        #expect(Int(lines[3])! <= 3)
    }

    @Test(arguments: [0, 1, 75, 3])
    func reportsTheExitCode(code: Int) throws {
        let scratch = try ScratchSpool()
        let outcome = try process(scratch, "exit \(code)").run()
        #expect(outcome.exitCode == code)
        #expect(!outcome.timedOut)
    }

    /// An operator's `cp` over the handler, or another thread's fork, holds it open for
    /// writing for a moment: exec fails with ETXTBSY, and the run waits instead of failing.
    @Test func aHandlerOpenForWritingForAMomentStillRuns() throws {
        let scratch = try ScratchSpool()
        let handler = try process(scratch, "exit 7")
        let writer = open(handler.executable, O_WRONLY | O_CLOEXEC)
        #expect(writer >= 0)
        let closer = Thread {
            usleep(100_000)
            close(writer)
        }
        closer.start()
        let outcome = try handler.run()
        #expect(outcome.exitCode == 7)
    }

    @Test func reportsASignal() throws {
        let scratch = try ScratchSpool()
        let outcome = try process(scratch, "kill -9 $$").run()
        #expect(outcome.exitCode == nil)
        #expect(outcome.signal == 9)
    }

    @Test func timeoutStopsTheWholeProcessGroup() throws {
        let scratch = try ScratchSpool()
        let pidFile = scratch.root + "/grandchild"
        let started = Date()
        let outcome = try process(scratch, "sleep 300 & echo $! > \(pidFile); sleep 300", timeout: 1).run()
        #expect(outcome.timedOut)
        #expect(Date().timeIntervalSince(started) < 30)
        let grandchild = try #require(Int32(scratch.read("grandchild")!.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(kill(grandchild, 0) != 0, "the background grandchild \(grandchild) survived")
    }

    @Test func leftoverBackgroundProcessesAreStoppedWhenTheHandlerExits() throws {
        let scratch = try ScratchSpool()
        let pidFile = scratch.root + "/leftover"
        let outcome = try process(scratch, "sleep 300 >/dev/null 2>&1 & echo $! > \(pidFile); exit 0").run()
        #expect(outcome.exitCode == 0)
        let leftover = try #require(Int32(scratch.read("leftover")!.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(kill(leftover, 0) != 0, "the background process \(leftover) survived its handler")
    }

    @Test func outputIsCappedButCounted() throws {
        let scratch = try ScratchSpool()
        var handler = try process(scratch, "head -c 5000000 /dev/zero")
        handler.outputCap = 1000
        let outcome = try handler.run()
        #expect(outcome.exitCode == 0)
        #expect(outcome.output.count == 1000)
        #expect(outcome.outputBytes == 5_000_000)
    }
}
