import Foundation
import PixelhookTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Apache both ways people run it (README "Apache" and "Shared hosting"): server-wide from
/// `apache.conf.example`, and a shared-hosting account's `examples/shared-hosting/htaccess`
/// under suEXEC.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct ApacheTests {
    /// The seeds' example events as the package ships them (`examples/events/*.json`).
    static func exampleEvents() throws -> [(event: String, body: Data)] {
        let directory = BuiltBinary.packageRoot + "/examples/events"
        return try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".json") }.sorted().map {
            (String($0.dropLast(".json".count)), try Data(contentsOf: URL(fileURLWithPath: directory + "/" + $0)))
        }
    }

    static func owner(_ path: String) -> uid_t? {
        var info = stat()
        return lstat(path, &info) == 0 ? info.st_uid : nil
    }

    @Test("Apache without suEXEC: apache.conf.example stores the seeds' events, runs their handlers as www-data, keeps the token out of the access log")
    func serverWide() throws {
        let server = try WebServerFixture(.apacheCGI, settings: ["PIXELHOOK_TOKEN": "s3cret", "PIXELHOOK_READ_TOKEN": "r3ad"])
        try server.writeHandler(named: "default", #"echo "$PIXELHOOK_EVENT $(id -un)" >> "# + server.directory + "/runs.log")
        let events = try ApacheTests.exampleEvents()
        #expect(events.count == 4)
        for (event, body) in events {
            let reply = try server.post(body, query: "token=s3cret")
            #expect(reply.status == 200, "\(event): \(reply)")
            #expect(reply.json == ["received": true, "event": .string(event), "duplicate": false], "\(reply)")
        }
        try server.waitForHandlers(count: events.count)
        #expect(server.runs.sorted() == events.map { "\($0.event) www-data" }.sorted())
        #expect(ApacheTests.owner(server.spool) == getpwnam("www-data")?.pointee.pw_uid)

        let again = try server.post(events.first { $0.event == "build.approved" }!.body, query: "token=s3cret")
        #expect(again.json == ["received": true, "event": "build.approved", "duplicate": true], "\(again)")
        #expect(try server.post(events[0].body, query: "token=wrong").status == 401)

        // Apache hides Authorization from CGI programs unless told; the example's CGIPassAuth does.
        let bearer = try server.request("GET", contentType: nil, query: "view=metrics", headers: ["Authorization: Bearer r3ad"])
        #expect(bearer.status == 200 && bearer.text.contains("pixelhook_deliveries_total"), "\(bearer)")
        let wrongBearer = try server.request("GET", contentType: nil, query: "view=metrics", headers: ["Authorization: Bearer s3cret"])
        #expect(wrongBearer.status == 401, "\(wrongBearer)")

        let accessLog = server.lines(of: server.logDirectory + "/access.log")
        #expect(accessLog.count >= events.count + 2, "\(accessLog)")
        #expect(accessLog.contains { $0.contains("POST /hooks/streampixel ") }, "\(accessLog)")
        #expect(!accessLog.contains { $0.contains("s3cret") || $0.contains("token=") }, "\(accessLog)")
    }

    /// What `examples/shared-hosting/htaccess` tells the account to do: the binary as
    /// `public_html/hooks/pixelhook.cgi`, the example as `.htaccess` beside it, settings in
    /// `~/.config/pixelhook/pixelhook.conf` with the spool and a recording handler in the home.
    static func followHtaccessExample(_ account: ThrowawayUser) throws -> (cgi: String, spool: String, runs: String) {
        try account.copy(try PixelhookRun.binary(), to: "public_html/hooks/pixelhook.cgi", mode: 0o755)
        try account.copy(BuiltBinary.packageRoot + "/examples/shared-hosting/htaccess", to: "public_html/hooks/.htaccess", mode: 0o644)
        let spool = account.home + "/pixelhook/spool"
        try account.write(".config/pixelhook/pixelhook.conf", """
            PIXELHOOK_SPOOL=\(spool)
            PIXELHOOK_HANDLERS=\(account.home)/pixelhook/handlers
            PIXELHOOK_PROJECT_IDS=\(WebServerFixture.projectID)
            PIXELHOOK_TOKEN=s3cret

            """, mode: 0o600)
        let runs = account.home + "/pixelhook/runs.log"
        try account.write("pixelhook/handlers/default", "#!/bin/sh\necho \"$PIXELHOOK_EVENT $(id -un)\" >> \(runs)\n", mode: 0o755)
        return (account.home + "/public_html/hooks/pixelhook.cgi", spool, runs)
    }

    /// The shared host's part of the server config: .htaccess allowed, `AddHandler` (mod_mime).
    static func sharedHostConfig(_ directory: String) -> String {
        """
        LoadModule mime_module    /usr/lib/apache2/modules/mod_mime.so
        TypesConfig /dev/null
        <Directory \(directory)>
            AllowOverride All
            Require all granted
        </Directory>
        """
    }

    /// README: without suEXEC the CGI runs as www-data, so it reads www-data's config, not the
    /// account's, and never writes into the account's home. A site that is not a user
    /// directory and names no `SuexecUserGroup` is served without suEXEC.
    @Test("Apache without suEXEC: the htaccess example runs as www-data and never uses the account's config or spool")
    func htaccessWithoutSuexec() throws {
        let systemConfig = try SystemConfigLock()  // what it reads depends on /etc/pixelhook
        defer { withExtendedLifetime(systemConfig) {} }
        try ThrowawayUser.with(shell: "/bin/sh", homeMode: 0o711) { account in
            let (_, spool, runs) = try ApacheTests.followHtaccessExample(account)
            let site = account.home + "/public_html"
            let server = try WebServerFixture(.apacheCGI, appendedConfig: ApacheTests.sharedHostConfig(site) + """

                Alias /site \(site)
                """)
            let reply = try server.post(Payloads.seed("build.approved"), query: "token=s3cret", path: "/site/hooks/pixelhook.cgi")
            // www-data's own config files are the administrator's: only without them is the
            // answer known (nothing tells pixelhook its projects).
            let webConfigs = ["/etc/pixelhook/pixelhook.conf", (getpwnam("www-data").map { String(cString: $0.pointee.pw_dir) } ?? "/var/www") + "/.config/pixelhook/pixelhook.conf"]
            if !webConfigs.contains(where: { access($0, F_OK) == 0 }) {
                #expect(reply.status == 500, "\(reply)")
                #expect(reply.json?["reason"]?.string?.contains("PIXELHOOK_PROJECT_IDS") == true, "\(reply)")
            }
            #expect(reply.contentType == "application/json", "\(reply): pixelhook ran")
            #expect(access(spool, F_OK) != 0, "the account's spool was not created")
            #expect(access(runs, F_OK) != 0, "no handler of the account ran")
        }
    }

    /// suexec-custom's own config: line 1 the document root, line 2 the userdir suffix, which
    /// must cover `public_html/hooks` (Debian's default is `public_html/cgi-bin`). Restored after.
    static let suexecConfig = "/etc/apache2/suexec/www-data"

    @Test("Apache + suEXEC: the htaccess example and the account's own config store the seeds' events in its spool, handlers and `builds` run as the account")
    func suexecAccount() throws {
        let original = try String(contentsOfFile: ApacheTests.suexecConfig, encoding: .utf8)
        defer { try? original.write(toFile: ApacheTests.suexecConfig, atomically: true, encoding: .utf8) }
        var lines = original.components(separatedBy: "\n")
        lines[1] = "public_html"
        try lines.joined(separator: "\n").write(toFile: ApacheTests.suexecConfig, atomically: true, encoding: .utf8)

        try ThrowawayUser.with(shell: "/bin/sh", homeMode: 0o711) { account in
            let (cgi, spool, runs) = try ApacheTests.followHtaccessExample(account)

            let homes = (account.home as NSString).deletingLastPathComponent
            let server = try WebServerFixture(.apacheCGI, appendedConfig: """
                LoadModule userdir_module /usr/lib/apache2/modules/mod_userdir.so
                LoadModule suexec_module  /usr/lib/apache2/modules/mod_suexec.so
                UserDir public_html
                UserDir disabled root

                """ + ApacheTests.sharedHostConfig(homes + "/*/public_html"))
            let suexecLog = { (try? String(contentsOfFile: "/var/log/apache2/suexec.log", encoding: .utf8))?.suffix(1500) ?? "no suexec.log" }
            let path = "/~\(account.name)/hooks/pixelhook.cgi"
            let events = try ApacheTests.exampleEvents()
            for (event, body) in events {
                let reply = try server.post(body, query: "token=s3cret", path: path)
                #expect(reply.status == 200, "\(event): \(reply)\n--- suexec.log:\n\(suexecLog())")
                #expect(reply.json?["event"] == .string(event), "\(reply)")
            }
            let results = try server.waitForHandlers(count: events.count, spool: spool)
            #expect(results.values.allSatisfy { $0["state"] == "done" }, "\(results)")
            #expect(server.lines(of: runs).sorted() == events.map { "\($0.event) \(account.name)" }.sorted())
            #expect(ApacheTests.owner(spool) == account.uid)
            #expect(server.storedDeliveries.isEmpty, "nothing in the server-wide spool")

            let again = try server.post(events.first { $0.event == "build.approved" }!.body, query: "token=s3cret", path: path)
            #expect(again.json?["duplicate"] == true, "\(again)")

            let builds = try account.run(cgi, ["builds"])
            #expect(builds.status == 0, "\(builds.output)")
            #expect(builds.output.contains("665a2b3c4d5e6f7a8b9c0e1f"), "\(builds.output)")
        }
    }
}
