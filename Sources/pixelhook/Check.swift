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
            directory exists; that each handler (a file named after an event, or default) is \
            a regular executable file; and that no file looks like a misspelt handler \
            (build.aproved), which would never run. It also names what another user could \
            change: a spool, or anything in it, not owned by this user or writable by group or \
            others (deliveries are refused or skipped), and handlers or their directory owned by \
            someone other than this user or root, or writable by group or others; and a token \
            a URL would change (& # % space), with its percent-encoded form. Other files, such \
            as handlers.env, are left alone. Nothing is changed.

            Run it as the user the web server runs pixelhook as (sudo -u www-data pixelhook \
            check): that is whose permissions matter.

            Prints one line per problem, or one "ok: ..." line. Exit status: 0 when all is \
            well, 1 when there is a problem, 64 for bad arguments.
            """
    )

    @OptionGroup var settings: SettingsOptions

    func run() throws {
        let report = SetupCheck(settings: settings.loaded).run()
        guard report.problems.isEmpty else {
            for problem in report.problems { StandardOutput.write("problem: \(problem)\n", to: 1) }
            throw ExitCode(CommandFailure.Status.failed.rawValue)
        }
        StandardOutput.write("ok: " + report.findings.joined(separator: "; ") + "\n", to: 1)
    }
}
