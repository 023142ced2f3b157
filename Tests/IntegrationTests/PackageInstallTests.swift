import Foundation
import PixelhookTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The release artifacts of `scripts/package.sh` as a user gets them: the .deb installed with
/// apt-get and served by Debian's nginx, lighttpd and Apache from the installed snippets; the
/// tarball's binary run with nothing else around it. Root only (it installs and purges the
/// package); `PIXELHOOK_SYSTEM_TESTS=0` turns it off.
@Suite(.serialized, .enabled(if: InstalledPackage.unavailable == nil, "\(InstalledPackage.unavailable ?? "")"))
struct PackageInstallTests {
    /// The seeds' events through each server into the installed handlers, as www-data; then
    /// remove keeps the spool and the settings, purge removes the settings.
    @Test func seedsThroughDebiansServersThenRemoveAndPurge() throws {
        let package = try InstalledPackage()

        // As installed: the secrets readable by www-data only, the spool www-data's, a static binary.
        #expect(InstalledPackage.owner(InstalledPackage.config) == "root:www-data 640")
        #expect(InstalledPackage.owner("/etc/pixelhook/handlers/handlers.env") == "root:www-data 640")
        #expect(InstalledPackage.owner(InstalledPackage.spool) == "www-data:www-data 700")
        let ldd = try ToolRun.run("/usr/bin/ldd", ["/usr/bin/pixelhook"], environment: ["PATH": "/usr/bin:/bin"])
        #expect(ldd.output.contains("not a dynamic executable"), "\(ldd)")

        try package.startServers()
        for gateway in PackagedGateway.allCases {
            try deliverSeeds(through: gateway, package)
        }
        try expectHandlersDone(package)

        // The operator's view, as www-data: each gateway's build is there.
        let builds = try package.runAsWebUser(["/usr/bin/pixelhook", "builds", "--json"])
        #expect(builds.status == 0, "\(builds)")
        for gateway in PackagedGateway.allCases { #expect(builds.output.contains(uploadID(gateway)), "\(builds.output)") }

        // Nothing in the spool belongs to anyone but www-data.
        let foreign = try package.system("/usr/bin/find", [InstalledPackage.spool, "!", "-user", "www-data"])
        #expect(foreign.isEmpty, "files in the spool not owned by www-data: \(foreign)")

        // nginx's rate limit: guesses are limited (429), the right token never is. (Health checks:
        // the limit is keyed on the query alone, and a GET never stores anything.)
        let guesses = try (1...40).map { _ in try package.request(.nginxFcgiwrap, "GET", query: "token=guess").status }
        #expect(guesses.contains(429), "\(guesses)")
        #expect(Set(guesses).isSubset(of: [200, 429]), "\(guesses)")
        let rightOnes = try (1...40).map { _ in try package.request(.nginxFcgiwrap, "GET", query: "token=\(package.token)").status }
        #expect(rightOnes.allSatisfy { $0 == 200 }, "\(rightOnes)")

        // The token is in no access log, and each log did record the hook's requests.
        for gateway in PackagedGateway.allCases {
            let log = package.accessLog(gateway)
            #expect(log.contains(InstalledPackage.hookPath), "\(gateway): \(gateway.accessLog) has no line for the hook:\n\(log)")
            #expect(!log.contains(package.token), "\(gateway): the token is in \(gateway.accessLog):\n\(log)")
            #expect(!log.contains("token="), "\(gateway): a query string is in \(gateway.accessLog):\n\(log)")
        }
        package.stopServers()

        // remove: the binary goes; the spool (with its deliveries) and the settings stay.
        try package.uninstall(keepConfig: true)
        #expect(access("/usr/bin/pixelhook", F_OK) != 0)
        #expect(FileManager.default.fileExists(atPath: InstalledPackage.config))
        #expect(FileManager.default.fileExists(atPath: InstalledPackage.spool + "/requests.log"))
        #expect(InstalledPackage.owner(InstalledPackage.spool) == "www-data:www-data 700")

        // purge: the settings, the shipped handlers and the enabled snippets' links go; the spool stays.
        try package.uninstall(keepConfig: false)
        #expect(!FileManager.default.fileExists(atPath: "/etc/pixelhook"))
        #expect(!FileManager.default.fileExists(atPath: "/etc/nginx/conf.d/pixelhook.conf"))
        #expect(access("/etc/lighttpd/conf-enabled/50-pixelhook.conf", F_OK) != 0 && !isSymlink("/etc/lighttpd/conf-enabled/50-pixelhook.conf"))
        #expect(!isSymlink("/etc/apache2/conf-enabled/pixelhook.conf"))
        #expect(FileManager.default.fileExists(atPath: InstalledPackage.spool + "/requests.log"))
    }

    /// The tarball's binary needs nothing but itself (and /proc): `--help` and a CGI health check
    /// inside an empty chroot, with an empty environment.
    @Test func tarballBinaryRunsAlone() throws {
        let deb = try InstalledPackage.freshDeb()
        let version = URL(fileURLWithPath: deb).lastPathComponent.split(separator: "_")[1]
        let tarball = BuiltBinary.packageRoot + "/dist/pixelhook-\(version)-linux-x86_64.tar.gz"
        let temporary = try TemporaryDirectory(prefix: "pixelhook-tarball")
        let directory = temporary.path
        let jail = directory + "/jail"
        defer {
            _ = try? ToolRun.check("/bin/umount", ["-l", jail + "/proc"])
            temporary.remove()
        }
        try ToolRun.check("/bin/tar", ["-xzf", tarball, "-C", directory])
        let unpacked = directory + "/pixelhook-\(version)-linux-x86_64"
        for file in ["pixelhook", "README.md", "examples/handlers/default", "examples/events/webhook.test.json",
                     "snippets/nginx/snippets/pixelhook-fcgiwrap.conf", "pixelhook.conf.example"] {
            #expect(FileManager.default.fileExists(atPath: unpacked + "/" + file), "\(file) is not in the tarball")
        }
        for sub in ["proc", "tmp", "handlers"] { try FileManager.default.createDirectory(atPath: jail + "/" + sub, withIntermediateDirectories: true) }
        try FileManager.default.copyItem(atPath: unpacked + "/pixelhook", toPath: jail + "/pixelhook")
        try ToolRun.check("/bin/mount", ["-t", "proc", "proc", jail + "/proc"])

        let help = try ToolRun.run("/usr/sbin/chroot", [jail, "/pixelhook", "--help"], environment: [:])
        #expect(help.status == 0 && help.output.contains("OVERVIEW"), "\(help)")
        let health = try ToolRun.run("/usr/sbin/chroot", [jail, "/pixelhook"], environment: [
            "GATEWAY_INTERFACE": "CGI/1.1", "REQUEST_METHOD": "GET",
            "PIXELHOOK_SPOOL": "/tmp/spool", "PIXELHOOK_HANDLERS": "/handlers", "PIXELHOOK_PROJECT_IDS": InstalledPackage.projectID,
        ])
        #expect(health.status == 0 && health.output.hasPrefix("Status: 200") && health.output.hasSuffix(#"{"ok":true}"#), "\(health)")
    }

    // MARK: - Helpers

    func uploadID(_ gateway: PackagedGateway) -> String { "pkg-\(gateway.rawValue)" }

    /// A seed with this gateway's uploadId, so that each gateway's events are new deliveries.
    func seed(_ event: String, for gateway: PackagedGateway) -> Data {
        let text = String(decoding: Payloads.seed(event), as: UTF8.self)
            .replacingOccurrences(of: "665a2b3c4d5e6f7a8b9c0e1f", with: uploadID(gateway))
        return Data(text.utf8)
    }

    /// The Test button, an upload, an approval sent twice (the second a duplicate), a rejection.
    func deliverSeeds(through gateway: PackagedGateway, _ package: InstalledPackage) throws {
        let query = "token=\(package.token)"
        // One Test per gateway, each stored and run: no coalescing within the 10 s window.
        unlink(InstalledPackage.spool + "/last-test")
        let test = try package.request(gateway, "POST", body: Payloads.seed("webhook.test"), query: query)
        #expect(test.status == 200 && test.json?["event"] == "webhook.test", "\(gateway): \(test)\(package.logs())")
        for (event, duplicate) in [("build.uploaded", false), ("build.approved", false), ("build.approved", true), ("build.rejected", false)] {
            let reply = try package.request(gateway, "POST", body: seed(event, for: gateway), query: query)
            #expect(reply.status == 200, "\(gateway) \(event): \(reply)\(package.logs())")
            #expect(reply.contentType?.hasPrefix("application/json") == true, "\(gateway) \(event): \(reply)")
            #expect(reply.json?["duplicate"] == .bool(duplicate), "\(gateway) \(event): \(reply)")
        }
        let refused = try package.request(gateway, "POST", body: seed("build.uploaded", for: gateway), query: "token=wrong")
        #expect(refused.status == 401, "\(gateway): \(refused)")
    }

    /// Every stored delivery's handler ran to `done` (as www-data, in the installed handlers), and
    /// the example handlers' activity log has one line per delivery: 3 per gateway, 4 Tests.
    func expectHandlersDone(_ package: InstalledPackage) throws {
        let deliveries = InstalledPackage.spool + "/deliveries"
        let deadline = Date().addingTimeInterval(20)
        var results: [String: String] = [:]
        var payloads: [String] = []
        repeat {
            let files = FileManager.default.enumerator(atPath: deliveries)?.compactMap { $0 as? String } ?? []
            payloads = files.filter { $0.hasSuffix(".json") && !$0.split(separator: "/").last!.hasPrefix(".") }
            results = [:]
            for file in files where file.hasSuffix(".result") {
                results[String(file.dropLast(".result".count))] = (try? String(contentsOfFile: deliveries + "/" + file, encoding: .utf8)) ?? ""
            }
            if payloads.count == 16, results.count == 16 { break }
            usleep(50_000)
        } while Date() < deadline
        #expect(payloads.count == 16, "stored: \(payloads.sorted())")
        #expect(results.count == 16, "results: \(results.keys.sorted())\(package.logs())")
        for (delivery, result) in results {
            #expect(result.contains(#""state":"done""#), "\(delivery): \(result)")
        }
        let activity = (try? String(contentsOfFile: InstalledPackage.spool + "/activity.log", encoding: .utf8)) ?? ""
        let lines = activity.split(separator: "\n")
        #expect(lines.count == 16, "activity.log:\n\(activity)")
        #expect(lines.filter { $0.contains(" webhook.test ") }.count == 4, "activity.log:\n\(activity)")
        for gateway in PackagedGateway.allCases {
            #expect(lines.filter { $0.contains("upload=\(uploadID(gateway)) ") }.count == 3, "\(gateway): activity.log:\n\(activity)")
        }
    }

    func isSymlink(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFLNK
    }
}
