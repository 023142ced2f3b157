#if canImport(Glibc)
import Glibc
#endif
import PixelhookCore
import SystemPackage

/// `pixelhook check`: what would stop deliveries from being stored or handled, each problem
/// one line an operator can act on. Looks, never changes: a missing spool is not created.
public struct SetupCheck {
    public let settings: Result<Settings, SettingsError>
    /// Where the settings came from, named on the `ok:` line.
    public let config: ConfigSource?

    public init(settings: Result<Settings, SettingsError>, config: ConfigSource? = nil) {
        self.settings = settings
        self.config = config
    }

    public struct Report: Sendable, Equatable {
        public var problems: [String] = []
        /// What was found fine, for the `ok:` line.
        public var findings: [String] = []
    }

    public func run() -> Report {
        var report = Report()
        let settings: Settings
        switch self.settings {
        case .failure(let error):
            report.problems.append("settings: \(error.message)")
            return report
        case .success(let valid):
            settings = valid
        }
        if let config {
            report.findings.append(config.description)
            // The file's own token: one from the environment is not in the file others read.
            if let path = config.path, settings.token != nil, ConfigFileOwnership.isWorldReadable(path),
               (try? SettingsLoader.variables(environment: [:], source: config))?[Settings.Key.token].map({ !$0.isEmpty }) == true {
                report.problems.append("config file \(path) holds \(Settings.Key.token) and every user can read it: chmod o-r \(path)")
            }
        }
        if let projects = settings.projectIDs {
            report.findings.append("\(projects.count) project\(projects.count == 1 ? "" : "s")")
        } else {
            report.problems.append("\(Settings.Key.projectIDs) is not set: every POST is refused (500) until it lists your projectIds")
        }
        for event in (settings.events ?? []).sorted() where !Event.isKnown(event) {
            let hint = HandlerFileCheck.suggestion(for: event).map { " (did you mean \($0)?)" } ?? ""
            report.problems.append("\(Settings.Key.events) names \(event), not an event pixelhook knows\(hint)")
        }
        checkTokenSet(settings, into: &report)
        checkTokenInURL(settings.token, into: &report)
        checkReadTokenDiffers(settings, into: &report)
        if checkSpool(settings.spool, into: &report) {
            checkRecentRefusals(settings, into: &report)
            checkGaveUp(settings, into: &report)
        }
        checkHandlers(settings.handlers, into: &report)
        if let slots = HandlerSlots.userDirectoryProblem() { report.problems.append(slots) }
        return report
    }

    /// Returns true when the spool exists and is ours to read.
    private func checkSpool(_ root: String, into report: inout Report) -> Bool {
        guard let info = DirectoryListing.status(root) else {
            guard errno == ENOENT else {
                report.problems.append("spool \(root) cannot be read: \(Errno(rawValue: errno))")
                return false
            }
            // Created on first use: the nearest existing parent must let us.
            var parent = root
            repeat {
                parent = String(parent[..<(parent.lastIndex(of: "/") ?? parent.startIndex)])
            } while !parent.isEmpty && !Syscalls.exists(parent)
            let existing = parent.isEmpty ? "/" : parent
            if access(existing, W_OK | X_OK) == 0 {
                report.findings.append("spool \(root) will be created on first use")
            } else {
                report.problems.append("spool \(root) does not exist and cannot be created: \(existing) is not writable by this user (\(Errno(rawValue: errno)))")
            }
            return false
        }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            report.problems.append("spool \(root) is not a directory")
            return false
        }
        let owned = checkSpoolOwner(root, info: info, into: &report)
        let spool = Spool(root: root)
        for directory in [root, spool.layout.deliveries, spool.layout.runners] where Syscalls.exists(directory) {
            if access(directory, W_OK | X_OK) != 0 {
                report.problems.append("spool \(directory) is not writable by this user: \(Errno(rawValue: errno))")
                return false
            }
        }
        let problemsBefore = report.problems.count
        checkSpoolTrust(spool, into: &report)
        if report.problems.count == problemsBefore { report.findings.append("spool \(root) writable") }
        return owned
    }

    private func checkHandlers(_ directory: String, into report: inout Report) {
        guard DirectoryListing.isDirectory(directory) else {
            let why = Syscalls.exists(directory) ? "is not a directory" : "does not exist"
            report.problems.append("handlers directory \(directory) \(why)")
            return
        }
        let names: [String]
        do {
            names = try DirectoryListing.names(directory)
        } catch {
            report.problems.append("handlers directory \(directory) cannot be read: \(error)")
            return
        }
        let files = names.map { HandlerFileCheck.File(lookingAt: "\(directory)/\($0)", name: $0) }
        let problems = HandlerFileCheck.problems(files, directory: directory)
        report.problems += problems
        checkLineEndings(directory, names: names, into: &report)
        checkHandlerTrust(directory, names: names, into: &report)
        let handlers = files.filter { HandlerFileCheck.handlerNames.contains($0.name) }.map(\.name)
        report.findings.append(handlers.isEmpty
            ? "no handlers in \(directory) (deliveries are stored and marked done)"
            : "handlers in \(directory): \(handlers.joined(separator: ", "))")
    }
}
