import ArgumentParser
import PixelhookCore
import PixelhookRuntime

/// `pixelhook check`: settings, spool and handlers, each problem one line (SPEC "Commands").
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the settings, the spool and the handlers; explain each problem.",
        discussion: """
            Checks that the settings are valid and PIXELHOOK_PROJECT_IDS is set; that every \
            PIXELHOOK_EVENTS entry is an event pixelhook knows; that the spool exists and is \
            writable by the user running the check (or can be created); that the handlers \
            directory exists; that a config file holding PIXELHOOK_TOKEN is not readable by \
            every user; that each handler (a file named after an event, or default) is \
            a regular executable file; and that no file looks like a misspelt handler \
            (build.aproved), which would never run. It also names what another user could \
            change: a spool, or anything in it, not owned by this user or writable by group or \
            others (deliveries are refused or skipped), and handlers or their directory owned by \
            someone other than this user or root, or writable by group or others; and a token \
            a URL would change (& # % space), with its percent-encoded form. \
            It also warns when PIXELHOOK_TOKEN is not set, or PIXELHOOK_READ_TOKEN is the same; when a handler or handlers.env has \
            CRLF (Windows) line endings; when it runs as another user than the spool's owner; \
            and when the request log shows deliveries refused or ignored in the last 24 hours, \
            counted per reason, with the configured projectId an unknown one most likely meant \
            (read from the log's end, never more than its last 64 MiB; `pixelhook log \
            --refused` lists them); and when deliveries gave up after PIXELHOOK_RETRY_LIMIT \
            failed attempts, which `retry` no longer runs (`pixelhook replay` does). Other \
            files are left alone. Nothing is changed.

            Run it as the user the web server runs pixelhook as (sudo -u www-data pixelhook \
            check): that is whose permissions matter. Started by root on a spool another user \
            owns, it checks as that user. The ok line names the config file read, if any.

            Prints one line per problem, or one "ok: ..." line. Exit status: 0 when all is \
            well, 1 when there is a problem, 64 for bad arguments.
            """
    )

    @OptionGroup var settings: SettingsOptions

    func run() throws {
        let source = settings.source
        let loaded = SettingsLoader.load(environment: ProcessEnvironment.current(), source: source)
        // Root checks what the spool's owner, who runs the handlers, can do.
        var owner: UserAccount?
        if case .success(let valid) = loaded {
            do {
                owner = try SpoolOwner.become(ownerOf: valid.spool)
            } catch {
                StandardOutput.write("problem: \(error.line(rerun: RunAsSpoolOwner.commandLine))\n", to: 1)
                throw ExitCode(.failed)
            }
        }
        var report = SetupCheck(settings: loaded, config: source).run()
        if let owner { report.findings.append("checked as \(owner.name), the spool's owner") }
        guard report.problems.isEmpty else {
            for problem in report.problems { StandardOutput.write("problem: \(problem)\n", to: 1) }
            throw ExitCode(.failed)
        }
        StandardOutput.write("ok: " + report.findings.joined(separator: "; ") + "\n", to: 1)
    }
}
