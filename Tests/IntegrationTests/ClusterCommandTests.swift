import Foundation
import PixelhookTestSupport
import Testing

/// `pixelhook cluster …` and `pixelhook-cluster` refusing what they cannot do, in one line
/// each, without a database.
@Suite struct ClusterCommandTests {
    static var helper: String { (BuiltBinary.path as NSString).deletingLastPathComponent + "/pixelhook-cluster" }
    static let base = ["PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PIXELHOOK_CONFIG": "", "PIXELHOOK_SPOOL": "/tmp/pixelhook-cluster-none"]

    @Test func clusterModeOffIsSaid() throws {
        let (status, output) = try ToolRun.run(BuiltBinary.path, ["cluster", "init"], environment: Self.base)
        #expect(status == 78)
        #expect(output.contains("PIXELHOOK_CLUSTER is not set: cluster mode is off"), "\(output)")
    }

    @Test func anUnreachableDatabaseIsSaidAndExits69() throws {
        var environment = Self.base
        environment["PIXELHOOK_CLUSTER"] = "host=/nonexistent-socket-directory dbname=pixelhook"
        let (status, output) = try ToolRun.run(BuiltBinary.path, ["cluster", "builds"], environment: environment)
        #expect(status == 69)
        #expect(output.contains("PostgreSQL unreachable"), "\(output)")
    }

    @Test("builds and show with PostgreSQL unreachable: this host's spool, one line on stderr, exit 69")
    func localViewsWhenTheDatabaseIsUnreachable() throws {
        let directory = try TemporaryDirectory(prefix: "pixelhook-cluster-views")
        let spool = directory.path
        var environment = Self.base
        environment["PIXELHOOK_SPOOL"] = spool
        environment["PIXELHOOK_PROJECT_IDS"] = "p1"
        environment["PIXELHOOK_CLUSTER"] = "host=/nonexistent-socket-directory dbname=pixelhook"
        for arguments in [["builds"], ["builds", "--json"], ["show", "p1/u1/build.uploaded"]] {
            let outcome = try PixelhookRun.run(arguments, environment: environment)
            #expect(outcome.exitCode == 69, "\(arguments): \(outcome.stdout) \(outcome.stderr)")
            #expect(outcome.stderr.contains("PostgreSQL unreachable"), "\(arguments): \(outcome.stderr)")
            #expect(outcome.stderr.split(separator: "\n").count == (arguments[0] == "show" ? 2 : 1), "\(arguments): \(outcome.stderr)")
        }
        #expect(try PixelhookRun.run(["builds"], environment: environment).stdout == "no builds in \(spool)/deliveries\n")
        #expect(try PixelhookRun.run(["builds", "--json"], environment: environment).stdout == "{\"builds\":[]}\n")
    }

    @Test(arguments: [["bogus"], ["show"], ["show", "not-an-id"], ["init", "--lease"], ["init", "--lease", "forever"], ["builds", "extra"]])
    func badArgumentsAreRefusedWithTheUsage(arguments: [String]) throws {
        var environment = Self.base
        environment["PIXELHOOK_CLUSTER"] = "host=/nonexistent-socket-directory dbname=pixelhook"
        let (status, output) = try ToolRun.run(Self.helper, arguments, environment: environment)
        #expect(status == 64, "\(arguments): \(output)")
        #expect(output.hasPrefix("pixelhook-cluster: "), "\(output)")
    }
}
