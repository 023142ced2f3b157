import Foundation
import PixelhookTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// SPEC "Who runs what": root's commands on www-data's spool run as www-data, and leave no file
/// of root's in it. (The tests run as root.)
@Suite struct SpoolOwnerTests {
    static let webUser = (name: "www-data", uid: uid_t(33))

    /// A delivery stored and never handled, in a spool (and an output directory) www-data owns;
    /// the handler writes the uid it runs as.
    static func webServersSpool() throws -> CommandFixture {
        let fixture = try CommandFixture()
        chmod(fixture.directory, 0o755)  // www-data must reach the handlers
        try FileManager.default.createDirectory(atPath: fixture.directory + "/out", withIntermediateDirectories: false)
        try fixture.handler("default", #"id -u > "$FIXTURE/out/uid""#)
        try fixture.store()
        try ToolRun.check("/bin/chown", ["-R", "www-data:www-data", fixture.spool, fixture.directory + "/out"])
        return fixture
    }

    /// Paths under the spool that root owns.
    static func rootOwned(in fixture: CommandFixture) -> [String] {
        let names = FileManager.default.enumerator(atPath: fixture.spool)?.allObjects as? [String] ?? []
        return ([""] + names).filter { name in
            var info = stat()
            return lstat(fixture.spool + "/" + name, &info) == 0 && info.st_uid == 0
        }
    }

    @Test(arguments: [["replay", "u1"], ["retry"]])
    func rootsCommandRunsTheHandlerAsTheSpoolsOwner(arguments: [String]) throws {
        try #require(getuid() == 0, "run as root")
        let fixture = try Self.webServersSpool()
        let outcome = try fixture.run(arguments)
        #expect(outcome.status == 0, "\(outcome)")
        #expect(outcome.stdout == "p1/u1/build.approved: done (was never finished)\n", "\(outcome)")
        #expect(fixture.read("out/uid") == "\(Self.webUser.uid)\n", "the handler ran as www-data")
        #expect(Self.rootOwned(in: fixture).isEmpty, "root-owned in the spool: \(Self.rootOwned(in: fixture))")
        // And www-data's own retry then finds nothing left to run.
        let again = try fixture.run(["retry"], launcher: ["/usr/bin/setpriv", "--reuid=33", "--regid=33", "--init-groups", "--"])
        #expect(again.status == 0 && again.stdout.isEmpty, "\(again)")
    }

    @Test func checkChecksAsTheSpoolsOwner() throws {
        try #require(getuid() == 0, "run as root")
        let fixture = try Self.webServersSpool()
        let checked = try fixture.run(["check"], environment: ["PIXELHOOK_TOKEN": "s3cret"])
        #expect(checked.status == 0, "\(checked)")
        #expect(checked.stdout.hasSuffix("; checked as www-data, the spool's owner\n"), "\(checked)")
    }

    /// An owner root cannot become (no user of that uid): refused, naming whom to run it as.
    @Test func anOwnerWithoutAUserIsRefused() throws {
        try #require(getuid() == 0, "run as root")
        let fixture = try Self.webServersSpool()
        try ToolRun.check("/bin/chown", ["-R", "54321", fixture.spool])
        for arguments in [["replay", "u1"], ["retry"], ["builds"], ["gc", "--older-than", "7d"]] {
            let outcome = try fixture.run(arguments)
            #expect(outcome.status == 77, "\(outcome)")
            #expect(outcome.stderr == "pixelhook: the spool \(fixture.spool) belongs to #54321, and uid 54321 is not in /etc/passwd, so its groups are unknown; run it as that user: sudo -u #54321 pixelhook \(arguments.joined(separator: " "))\n", "\(outcome)")
        }
        #expect(fixture.read("out/uid") == nil, "no handler ran")
        let handled = try fixture.run(["handle"], stdin: CommandFixture.payload(uploadId: "u2"))
        #expect(handled.status == 77, "\(handled)")
    }
}
