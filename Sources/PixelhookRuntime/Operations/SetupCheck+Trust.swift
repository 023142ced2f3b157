#if canImport(Glibc)
import Glibc
#endif
import PixelhookCore

/// `check`'s look at who else could change what pixelhook reads or runs, and at a token that
/// cannot be pasted into a URL as it is.
extension SetupCheck {
    /// The spool's own directories, its projects, builds and their files, and the request log
    /// (an operator command: it may read every entry once): each must be
    /// ours and not writable by group or others, or the receiver and the runners refuse it.
    func checkSpoolTrust(_ spool: Spool, into report: inout Report) {
        var refused: [String] = []
        do {
            try spool.verifyTrusted()
        } catch {
            refused.append("spool \(error.description): deliveries are refused (503) and nothing in it is run")
        }
        if refused.isEmpty {
            var paths = [spool.layout.requestLog]
            for project in (try? DirectoryListing.names(spool.layout.deliveries)) ?? [] {
                let projectPath = "\(spool.layout.deliveries)/\(project)"
                paths.append(projectPath)
                for build in (try? DirectoryListing.names(projectPath)) ?? [] {
                    let buildPath = "\(projectPath)/\(build)"
                    paths.append(buildPath)
                    paths += ((try? DirectoryListing.names(buildPath)) ?? []).map { "\(buildPath)/\($0)" }
                }
            }
            for path in paths {
                guard let info = DirectoryListing.status(path), let why = SpoolTrust.problem(path, info) else { continue }
                refused.append("spool entry \(path) is not trusted: \(why) (or remove it); its deliveries are skipped, never run")
            }
        }
        let shown = 5
        report.problems += refused.prefix(shown)
        if refused.count > shown { report.problems.append("\(refused.count - shown) more spool entries are not trusted") }
    }

    /// The handlers directory and each handler: a handler others can change runs their code as
    /// us. Owned by us or root (a deployment's usual owner), not writable by group or others.
    func checkHandlerTrust(_ directory: String, names: [String], into report: inout Report) {
        let us = geteuid()
        let paths = [directory] + names.filter { HandlerFileCheck.handlerNames.contains($0) }.map { "\(directory)/\($0)" }
        for path in paths {
            guard let info = DirectoryListing.status(path) else { continue }
            let what = path == directory ? "handlers directory \(path)" : "handler \(path)"
            if info.st_uid != us, info.st_uid != 0 {
                report.problems.append("\(what) is owned by \(SpoolTrust.describe(info.st_uid)), who can change what runs as \(SpoolTrust.describe(us)) (chown root \(path))")
            } else if info.st_mode & 0o022 != 0 {
                report.problems.append("\(what) is writable by group or others (mode \(String(info.st_mode & 0o7777, radix: 8))): they can change what runs as \(SpoolTrust.describe(us)) (chmod go-w \(path))")
            }
        }
    }

    /// A token holding a character that ends or changes a query value pasted as it is (`&`,
    /// `#`, `%`, a space, ...) never matches: say so, with its percent-encoded form. `+`, `/`
    /// and `=` are fine as they are (`+` is read both ways, see `RequestHead`).
    func checkTokenInURL(_ token: String?, into report: inout Report) {
        guard let token else { return }
        let fine = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/=".utf8)
        guard token.utf8.contains(where: { !fine.contains($0) }) else { return }
        report.problems.append("\(Settings.Key.token) holds characters a URL changes (such as & # % or a space): pasted as it is, it never matches and every delivery is refused (401); put it in the webhook URL percent-encoded: ?token=\(SetupCheck.percentEncoded(token))")
    }

    /// Every byte but RFC 3986's unreserved characters as `%XX`.
    static func percentEncoded(_ text: String) -> String {
        let unreserved = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~".utf8)
        let hex = Array("0123456789ABCDEF".utf8)
        var bytes: [UInt8] = []
        for byte in text.utf8 {
            if unreserved.contains(byte) { bytes.append(byte) } else { bytes += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 15)]] }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
