import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif
import PixelhookCore
import PixelhookRuntime

/// `pixelhook gc --older-than`, run as a process against a real spool.
@Suite struct GCCommandTests {
    static let twoDays = 2 * 86_400

    @Test func removesOldDeliveriesKeepsFreshOnesAndEmptyDirectoriesGo() throws {
        let fixture = try CommandFixture()
        try fixture.handler("default", "echo output")
        for (event, upload) in [("build.approved", "old"), ("build.uploaded", "mixed"), ("build.approved", "mixed"), ("build.approved", "fresh")] {
            #expect(try fixture.run(["handle"], stdin: CommandFixture.payload(event: event, uploadId: upload)).status == 0)
        }
        try fixture.age(CommandFixture.spoolFiles.payloadPath(DeliveryKey("p1/old/build.approved")), seconds: Self.twoDays)
        try fixture.age(CommandFixture.spoolFiles.payloadPath(DeliveryKey("p1/mixed/build.uploaded")), seconds: Self.twoDays)
        // Leftovers of crashes: a temporary payload and a result whose payload is gone.
        for leftover in [CommandFixture.spoolFiles.buildDirectory(BuildID("p1/fresh")) + "/" + SpoolLayout.temporaryPrefix + "123-4", CommandFixture.spoolFiles.companionPath(DeliveryKey("p1/fresh/build.saving"), .result)] {
            FileManager.default.createFile(atPath: fixture.directory + "/" + leftover, contents: Data("x".utf8))
            try fixture.age(leftover, seconds: Self.twoDays)
        }

        let collected = try fixture.run(["gc", "--older-than", "1d"])
        #expect(collected.status == 0, "\(collected)")
        #expect(collected.stdout == "removed 2 deliveries older than 1d, 2 leftover files, 1 build directory, 0 project directories\n")
        #expect(!fixture.exists(CommandFixture.spoolFiles.buildDirectory(BuildID("p1/old"))), "an emptied build goes, with .arrivals and .lock")
        #expect(!fixture.exists(CommandFixture.spoolFiles.payloadPath(DeliveryKey("p1/mixed/build.uploaded"))))
        #expect(!fixture.exists(CommandFixture.spoolFiles.companionPath(DeliveryKey("p1/mixed/build.uploaded"), .result)))
        #expect(!fixture.exists(CommandFixture.spoolFiles.companionPath(DeliveryKey("p1/mixed/build.uploaded"), .output)))
        #expect(fixture.exists(CommandFixture.spoolFiles.payloadPath(DeliveryKey("p1/mixed/build.approved"))))
        #expect(fixture.exists(CommandFixture.spoolFiles.companionPath(DeliveryKey("p1/mixed/build.approved"), .result)))
        #expect(fixture.exists(CommandFixture.spoolFiles.payloadPath(DeliveryKey("p1/fresh/build.approved"))))
        #expect(!fixture.exists(CommandFixture.spoolFiles.buildDirectory(BuildID("p1/fresh")) + "/" + SpoolLayout.temporaryPrefix + "123-4"))

        // Everything older than a second, a moment later: the project directory goes too.
        sleep(2)
        let all = try fixture.run(["gc", "--older-than", "1s"])
        #expect(all.stdout == "removed 2 deliveries older than 1s, 0 leftover files, 2 build directories, 1 project directory\n", "\(all)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: fixture.spoolLayout.deliveries).isEmpty)
        // The same event arriving again is new: its marker went with it.
        let again = try fixture.run(["handle"], stdin: CommandFixture.payload(event: "build.approved", uploadId: "old"))
        #expect(again.stdout.contains(#""duplicate":false"#))
    }

    @Test func aBuildWhoseLockIsHeldIsNotTouched() throws {
        let fixture = try CommandFixture()
        for upload in ["busy", "idle"] { try fixture.store(uploadId: upload) }
        try fixture.age(CommandFixture.spoolFiles.payloadPath(DeliveryKey("p1/busy/build.approved")), seconds: Self.twoDays)
        try fixture.age(CommandFixture.spoolFiles.payloadPath(DeliveryKey("p1/idle/build.approved")), seconds: Self.twoDays)
        let lock = open(SpoolLayout.lockPath(in: fixture.spoolLayout.buildDirectory(BuildID("p1/busy"))), O_RDWR | O_CREAT, 0o600)
        defer { close(lock) }
        #expect(flock(lock, LOCK_EX) == 0)

        let collected = try fixture.run(["gc", "--older-than", "12h"])
        #expect(collected.status == 0)
        #expect(collected.stdout == "removed 1 delivery older than 12h, 0 leftover files, 1 build directory, 0 project directories; skipped 1 build whose handlers are running: p1/busy\n", "\(collected)")
        #expect(fixture.exists(CommandFixture.spoolFiles.payloadPath(DeliveryKey("p1/busy/build.approved"))))
        #expect(!fixture.exists(CommandFixture.spoolFiles.buildDirectory(BuildID("p1/idle"))))
    }

    /// (A missing spool is exit 74: MissingSpoolTests.)
    @Test func anEmptySpoolIsNothingToDo() throws {
        let fixture = try CommandFixture()
        try FileManager.default.createDirectory(atPath: fixture.spool, withIntermediateDirectories: false)
        let collected = try fixture.run(["gc", "--older-than", "7d"])
        #expect(collected.status == 0, "\(collected)")
        #expect(collected.stdout == "removed 0 deliveries older than 7d, 0 leftover files, 0 build directories, 0 project directories\n")
    }
}
