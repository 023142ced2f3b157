import Foundation
import PixelhookTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// The .deb `scripts/package.sh` builds, installed for real (`apt-get install ./dist/…deb`), and
/// Debian's own nginx (+ fcgiwrap, + the FastCGI responder as pixelhook.socket starts it),
/// lighttpd and Apache serving it from the installed snippets, as www-data.
///
/// What the servers would otherwise share with the rest of the machine is kept private: they, and
/// the commands the test runs, live in one mount namespace of their own (a holder process started
/// with `unshare --mount`, entered with `nsenter`), in which `/run` is an empty tmpfs (pid files,
/// fcgiwrap's and the responder's sockets), `/var/log/{nginx,lighttpd,apache2}` are this fixture's
/// directories, and `/etc/pixelhook/pixelhook.conf` and `/etc/nginx/conf.d/pixelhook.conf` are
/// the operator's edits (project, token) of the installed files. So no other test or server sees
/// the test's token or settings, and the servers' own pid files and logs are untouched. The main
/// configs are copies of Debian's (nginx.conf, lighttpd.conf, apache2.conf) changed only to listen
/// on free 127.0.0.1 ports; the snippets are the installed files, enabled the documented way
/// (`include snippets/…`, `lighty-enable-mod pixelhook`, `a2enconf pixelhook`).
///
/// `deinit` stops every process in the namespace, undoes what it enabled, purges the package and
/// removes the spool, so the machine is left as found. Meanwhile it holds `SystemConfigLock`.
final class InstalledPackage {
    static let spool = "/var/spool/pixelhook"
    static let config = "/etc/pixelhook/pixelhook.conf"
    static let projectID = "664f1a2b3c4d5e6f7a8b9c0d"
    /// The Webhook URL's path in every snippet.
    static let hookPath = "/hooks/streampixel"

    let token = "pkg-" + UUID().uuidString.lowercased()
    /// The temporary directory: the edited config copies, the servers' logs, rendered configs.
    let directory: String
    private let temporary: TemporaryDirectory
    let deb: String
    private(set) var ports: [PackagedGateway: Int] = [:]

    private var holder: ChildProcess?
    private var servers: [ChildProcess] = []
    /// Undone in reverse order at teardown (disable what was enabled).
    private var undo: [(String, [String])] = []
    private var installed = false
    /// /etc/pixelhook is this fixture's until it is gone (other tests write the system config).
    private let systemConfig: SystemConfigLock

    /// nil when the test can run here; otherwise why not.
    static let unavailable: String? = {
        if ProcessInfo.processInfo.environment["PIXELHOOK_SYSTEM_TESTS"] == "0" { return "PIXELHOOK_SYSTEM_TESTS=0" }
        guard geteuid() == 0 else { return "installs a package: needs root" }
        var name = utsname()
        uname(&name)
        let machine = withUnsafeBytes(of: name.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        guard machine == "x86_64" else { return "the package is built for amd64 only (this is \(machine))" }
        guard access("/usr/bin/dpkg-query", X_OK) == 0, access("/usr/bin/apt-get", X_OK) == 0 else { return "not a Debian system (no dpkg/apt-get)" }
        let status = (try? ToolRun.run("/usr/bin/dpkg-query", ["-W", "-f=${Status}", "pixelhook"], environment: ["PATH": "/usr/bin:/bin"]))?.output ?? ""
        if status.contains("installed") || status.contains("config-files") {
            return "pixelhook is already installed here (\(status)): this test installs and purges it, so it runs only where it is not"
        }
        for path in [spool, "/etc/pixelhook"] where FileManager.default.fileExists(atPath: path) {
            return "\(path) exists: this test would install over it and remove it afterwards"
        }
        return nil
    }()

    init() throws {
        systemConfig = try SystemConfigLock()
        temporary = try TemporaryDirectory(prefix: "pixelhook-pkg")
        directory = temporary.path
        chmod(directory, 0o755)  // www-data reads the config copy through it
        do {
            deb = try InstalledPackage.freshDeb()
            for tool in ["nginx", "fcgiwrap", "spawn-fcgi", "lighttpd", "apache2", "curl"] { _ = try InstalledTool.path(tool) }
        } catch {
            temporary.remove()
            throw error
        }
        do {
            installed = true
            try system("/usr/bin/apt-get", ["install", "-y", "-q", deb])
        } catch {
            cleanUp()
            throw error
        }
    }

    deinit { cleanUp() }

    // MARK: - The package

    /// The newest `dist/pixelhook_*_amd64.deb` when it is newer than everything it is built
    /// from; else a new one from `bash scripts/package.sh`.
    static func freshDeb() throws -> String {
        let root = BuiltBinary.packageRoot
        let dist = root + "/dist"
        func newest(_ paths: [String]) -> (String, Date)? {
            paths.compactMap { path in
                (try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date).map { (path, $0) }
            }.max { $0.1 < $1.1 }
        }
        func debs() -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: dist)) ?? [])
                .filter { $0.hasPrefix("pixelhook_") && $0.hasSuffix("_amd64.deb") }.map { dist + "/" + $0 }
        }
        var sources = ["Package.swift", "README.md", "nginx.conf.example", "lighttpd.conf.example"].map { root + "/" + $0 }
        for folder in ["Sources", "packaging", "examples", "scripts", "docs"] {
            let base = root + "/" + folder
            let files = FileManager.default.enumerator(atPath: base)?.compactMap { $0 as? String } ?? []
            sources += files.map { base + "/" + $0 }
        }
        if let (deb, built) = newest(debs()), let (_, changed) = newest(sources), built > changed { return deb }
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "PIXELHOOK_CONFIG")
        let (status, output) = try ToolRun.run("/bin/bash", [root + "/scripts/package.sh"], environment: environment)
        guard status == 0, let (deb, _) = newest(debs()) else {
            throw FixtureError("bash scripts/package.sh failed (\(status)):\n" + output.suffix(3000))
        }
        return deb
    }

    /// Runs a system tool to its end; throws with its output unless it exits 0.
    @discardableResult
    func system(_ tool: String, _ arguments: [String]) throws -> String {
        let (status, output) = try ToolRun.run(tool, arguments, environment: [
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8",
            "DEBIAN_FRONTEND": "noninteractive",
        ])
        guard status == 0 else { throw FixtureError("\(tool) \(arguments.joined(separator: " ")) failed (\(status)):\n\(output)") }
        return output
    }

    /// `apt-get remove` (keep: true) or `apt-get purge`.
    func uninstall(keepConfig: Bool) throws {
        try system("/usr/bin/apt-get", [keepConfig ? "remove" : "purge", "-y", "-q", "pixelhook"])
        if !keepConfig { installed = false }
    }

    /// Owner, group and permission bits of a path.
    static func owner(_ path: String) -> String? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        let user = getpwuid(info.st_uid).map { String(cString: $0.pointee.pw_name) } ?? String(info.st_uid)
        let group = getgrgid(info.st_gid).map { String(cString: $0.pointee.gr_name) } ?? String(info.st_gid)
        return "\(user):\(group) " + String(info.st_mode & 0o7777, radix: 8)
    }

    // MARK: - The private namespace and the servers

    var logDirectory: String { directory + "/log" }

    /// The operator's edits, made on copies of the installed files: the project, the token (in the
    /// settings and in the nginx rate limit's exemption), nothing else.
    private func writeOperatorEdits() throws {
        var settings = try String(contentsOfFile: InstalledPackage.config, encoding: .utf8)
        settings += "\nPIXELHOOK_PROJECT_IDS=\(InstalledPackage.projectID)\nPIXELHOOK_TOKEN=\(token)\n"
        let copy = directory + "/pixelhook.conf"
        try settings.write(toFile: copy, atomically: false, encoding: .utf8)
        try system("/bin/chown", ["root:www-data", copy])
        chmod(copy, 0o640)

        let limitFile = "/etc/nginx/conf.d/pixelhook.conf"
        let limits = try String(contentsOfFile: limitFile, encoding: .utf8)
        let exemption = "    # \"YOUR-TOKEN\" \"\";"
        guard limits.contains(exemption) else { throw FixtureError("\(limitFile) has no line `\(exemption)` to uncomment") }
        try limits.replacingOccurrences(of: exemption, with: "    \"\(token)\" \"\";")
            .write(toFile: directory + "/nginx-pixelhook.conf", atomically: false, encoding: .utf8)
    }

    /// The holder of the mount namespace: its mounts are made, then it sleeps until stopped.
    private func startNamespace() throws {
        let logs = ["nginx", "lighttpd", "apache2"]
        for name in logs { try FileManager.default.createDirectory(atPath: logDirectory + "/" + name, withIntermediateDirectories: true) }
        // As Debian has it: lighttpd opens its logs after it became www-data.
        try system("/bin/chown", ["www-data:www-data", logDirectory + "/lighttpd"])
        let ready = directory + "/namespace-ready"
        let script = """
            set -e
            mount -t tmpfs -o mode=0755 tmpfs /run
            mkdir -p /run/lock /run/pixelhook /run/apache2/socks
            chmod 1777 /run/lock
            chown www-data:www-data /run/apache2/socks
            mount --bind \(directory)/pixelhook.conf \(InstalledPackage.config)
            mount --bind \(directory)/nginx-pixelhook.conf /etc/nginx/conf.d/pixelhook.conf
            \(logs.map { "mount --bind \(logDirectory)/\($0) /var/log/\($0)" }.joined(separator: "\n"))
            touch \(ready)
            exec sleep 86400
            """
        let holder = try ChildProcess.server("/usr/bin/unshare", ["--mount", "--propagation", "private", "--", "/bin/sh", "-c", script],
                                       environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin"], log: directory + "/namespace.out")
        self.holder = holder
        let deadline = Date().addingTimeInterval(10)
        while access(ready, F_OK) != 0 {
            guard holder.isRunning, Date() < deadline else {
                throw FixtureError("the private mount namespace was not set up: " + ((try? String(contentsOfFile: directory + "/namespace.out", encoding: .utf8)) ?? ""))
            }
            usleep(10_000)
        }
    }

    /// Starts a program inside the namespace (nsenter execs it: the PID is the program's).
    @discardableResult
    private func launch(_ name: String, _ arguments: [String], environment: [String: String] = [:]) throws -> ChildProcess {
        guard let holder else { throw FixtureError("no namespace") }
        var environment = environment
        environment["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        environment["LANG"] = "C.UTF-8"
        let process = try ChildProcess.server("/usr/bin/nsenter", ["--mount=/proc/\(holder.pid)/ns/mnt", "--"] + arguments,
                                        environment: environment, log: logDirectory + "/\(name).out")
        servers.append(process)
        return process
    }

    /// Runs a command to its end inside the namespace, as www-data (the operator's `pixelhook
    /// builds`, as `sudo -u www-data` would).
    func runAsWebUser(_ arguments: [String]) throws -> (status: Int32, output: String) {
        guard let holder else { throw FixtureError("no namespace") }
        return try ToolRun.run("/usr/bin/nsenter", ["--mount=/proc/\(holder.pid)/ns/mnt", "--", "/usr/bin/setpriv",
                                                    "--reuid=www-data", "--regid=www-data", "--init-groups", "--"] + arguments,
                               environment: ["PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PIXELHOOK_CONFIG": InstalledPackage.config])
    }

    /// Enables a snippet with a Debian tool, to be disabled again at teardown.
    private func enable(_ tool: String, _ argument: String, undoWith undoTool: String) throws {
        try system(tool, [argument])
        undo.append((undoTool, [argument]))
    }

    func startServers() throws {
        try writeOperatorEdits()
        try startNamespace()
        for gateway in PackagedGateway.allCases { ports[gateway] = try unusedLocalPort() }
        let port = { (gateway: PackagedGateway) in self.ports[gateway]! }

        // nginx: fcgiwrap as Debian's fcgiwrap.socket starts it (the socket on fd 0, www-data), the
        // responder as pixelhook.socket + pixelhook.service do, and a copy of nginx.conf whose
        // sites are two servers, each including one snippet.
        let spawn = ["spawn-fcgi", "-n", "-M", "0660", "-U", "www-data", "-G", "www-data", "-u", "www-data", "-g", "www-data"]
        try launch("fcgiwrap", spawn + ["-s", "/run/fcgiwrap.socket", "--", "/usr/sbin/fcgiwrap", "-c", "2"])
        try launch("responder", spawn + ["-s", "/run/pixelhook/pixelhook.sock", "--", "/usr/bin/pixelhook", "fastcgi"],
                   environment: ["PIXELHOOK_CONFIG": InstalledPackage.config])
        let sites = """
            server { listen 127.0.0.1:\(port(.nginxFcgiwrap)); include /etc/nginx/snippets/pixelhook-fcgiwrap.conf; }
                server { listen 127.0.0.1:\(port(.nginxFastCGI)); include /etc/nginx/snippets/pixelhook-fastcgi.conf; }
            """
        try render("/etc/nginx/nginx.conf", to: "nginx.conf", [("include /etc/nginx/sites-enabled/*;", sites)])
        try launch("nginx", ["nginx", "-c", directory + "/nginx.conf", "-g", "daemon off;"])

        // lighttpd: `lighty-enable-mod pixelhook`; the copy listens on the test port and logs
        // accesses (10-accesslog.conf) whether or not this machine enabled that.
        try enable("/usr/sbin/lighty-enable-mod", "pixelhook", undoWith: "/usr/sbin/lighty-disable-mod")
        var lighttpdEdits = [("server.port                 = 80", "server.port = \(port(.lighttpdCGI))\nserver.bind = \"127.0.0.1\""),
                             ("include_shell \"/usr/share/lighttpd/use-ipv6.pl \" + server.port", "")]
        if access("/etc/lighttpd/conf-enabled/10-accesslog.conf", F_OK) != 0 {
            lighttpdEdits.append(("include \"/etc/lighttpd/conf-enabled/*.conf\"",
                                  "include \"/etc/lighttpd/conf-enabled/*.conf\"\ninclude \"/etc/lighttpd/conf-available/10-accesslog.conf\""))
        }
        try render("/etc/lighttpd/lighttpd.conf", to: "lighttpd.conf", lighttpdEdits)
        try launch("lighttpd", ["lighttpd", "-D", "-f", directory + "/lighttpd.conf"])

        // Apache: `a2enconf pixelhook` (and `a2enmod cgid` unless a CGI module is enabled); the
        // copy of apache2.conf listens on the test port and its one site logs as Debian's
        // 000-default does (`combined`).
        try enable("/usr/sbin/a2enconf", "pixelhook", undoWith: "/usr/sbin/a2disconf")
        let modules = "/etc/apache2/mods-enabled/"
        if access(modules + "cgi.load", F_OK) != 0, access(modules + "cgid.load", F_OK) != 0 {
            try enable("/usr/sbin/a2enmod", "cgid", undoWith: "/usr/sbin/a2dismod")
        }
        let apachePort = port(.apacheCGI)
        try render("/etc/apache2/apache2.conf", to: "apache2.conf", [
            ("\nInclude ports.conf", "\nListen 127.0.0.1:\(apachePort)"),
            ("\nIncludeOptional sites-enabled/*.conf", """

                <VirtualHost *:\(apachePort)>
                    DocumentRoot /var/www/html
                    ErrorLog ${APACHE_LOG_DIR}/error.log
                    CustomLog ${APACHE_LOG_DIR}/access.log combined
                </VirtualHost>
                """),
        ])
        try launch("apache2", ["/bin/sh", "-c", ". /etc/apache2/envvars && exec apache2 -d /etc/apache2 -f \(directory)/apache2.conf -DFOREGROUND"])

        for gateway in PackagedGateway.allCases { try waitUntilHealthy(gateway) }
    }

    /// A copy of a system config with textual edits, each of which must apply.
    private func render(_ source: String, to name: String, _ edits: [(String, String)]) throws {
        var text = try String(contentsOfFile: source, encoding: .utf8)
        for (from, to) in edits {
            guard text.contains(from) else { throw FixtureError("\(source) no longer contains `\(from)`: update InstalledPackage") }
            text = text.replacingOccurrences(of: from, with: to)
        }
        try text.write(toFile: directory + "/" + name, atomically: false, encoding: .utf8)
    }

    private func waitUntilHealthy(_ gateway: PackagedGateway) throws {
        let deadline = Date().addingTimeInterval(15)
        var last = "no answer"
        while Date() < deadline {
            if let reply = try? request(gateway, "GET"), reply.status != 0 {
                if reply.status == 200, reply.json?["ok"] == true { return }
                last = reply.description
            }
            usleep(50_000)
        }
        throw FixtureError("\(gateway) did not answer its health check within 15 s (\(last))" + logs())
    }

    /// Every log the servers wrote, for failure messages.
    func logs() -> String {
        let files = FileManager.default.enumerator(atPath: logDirectory)?.compactMap { $0 as? String } ?? []
        return files.sorted().compactMap { name in
            guard let text = try? String(contentsOfFile: logDirectory + "/" + name, encoding: .utf8), !text.isEmpty else { return nil }
            return "\n--- \(name):\n" + text.suffix(1500)
        }.joined()
    }

    /// The access log of the gateway's server.
    func accessLog(_ gateway: PackagedGateway) -> String {
        (try? String(contentsOfFile: logDirectory + "/" + gateway.accessLog, encoding: .utf8)) ?? ""
    }

    // MARK: - Requests

    private let counter = Counter()

    /// One request with curl; `query` is appended to the hook's URL.
    func request(_ gateway: PackagedGateway, _ method: String, body: Data? = nil, query: String = "") throws -> HTTPReply {
        let files = directory + "/request-\(counter.next())"
        var arguments = ["-s", "-S", "--noproxy", "*", "-m", "20", "-D", files + ".head", "-w", "%{http_code}", "-H", "Expect:",
                         "-X", method, "-o", files + ".body"]
        if let body {
            try body.write(to: URL(fileURLWithPath: files + ".request"))
            arguments += ["--data-binary", "@" + files + ".request", "-H", "Content-Type: application/json"]
        }
        let url = "http://127.0.0.1:\(ports[gateway] ?? 0)\(InstalledPackage.hookPath)"
        arguments.append(query.isEmpty ? url : url + "?" + query)
        return try PendingRequest(arguments: arguments, files: files).wait()
    }

    // MARK: - Teardown

    /// Every process in the private namespace: the servers, their workers and CGI children, the
    /// handler runners, the holder. They were all started by this fixture.
    private func namespaceMembers() -> [pid_t] {
        guard let holder, let namespace = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(holder.pid)/ns/mnt") else { return [] }
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { pid_t($0) }.filter {
            ProcTable.isAlive($0) && (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\($0)/ns/mnt")) == namespace
        }
    }

    /// TERM the servers (nginx, lighttpd and Apache stop their workers), then TERM and at last
    /// KILL whatever else is left in the namespace, the holder last.
    func stopServers() {
        for server in servers where server.isRunning { kill(server.pid, SIGTERM) }
        for server in servers { server.reap(timeout: 5) }
        var members = namespaceMembers().filter { $0 != holder?.pid }
        for pid in members { kill(pid, SIGTERM) }
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline, members.contains(where: ProcTable.isAlive) { usleep(20_000) }
        members = namespaceMembers()
        for pid in members { kill(pid, SIGKILL) }
        holder?.reap(timeout: 5)
        servers = []
    }

    private func cleanUp() {
        stopServers()
        for (tool, arguments) in undo.reversed() { _ = try? system(tool, arguments) }
        undo = []
        if installed { _ = try? uninstall(keepConfig: false) }
        try? FileManager.default.removeItem(atPath: InstalledPackage.spool)
        temporary.remove()
    }
}

/// The four ways the package serves the hook, each on its own port.
enum PackagedGateway: String, CaseIterable, CustomStringConvertible {
    /// /etc/nginx/snippets/pixelhook-fcgiwrap.conf: nginx → fcgiwrap → /usr/bin/pixelhook.
    case nginxFcgiwrap
    /// /etc/nginx/snippets/pixelhook-fastcgi.conf: nginx → the responder on /run/pixelhook/pixelhook.sock.
    case nginxFastCGI
    /// /etc/lighttpd/conf-available/50-pixelhook.conf: lighttpd's mod_cgi.
    case lighttpdCGI
    /// /etc/apache2/conf-available/pixelhook.conf: Apache's mod_cgid, ScriptAlias.
    case apacheCGI

    var description: String { rawValue }

    /// Relative to the fixture's log directory.
    var accessLog: String {
        switch self {
        case .nginxFcgiwrap, .nginxFastCGI: "nginx/access.log"
        case .lighttpdCGI: "lighttpd/access.log"
        case .apacheCGI: "apache2/access.log"
        }
    }
}
