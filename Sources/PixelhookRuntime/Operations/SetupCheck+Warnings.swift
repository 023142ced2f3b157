#if canImport(Glibc)
import Glibc
#endif
import PixelhookCore

/// `check`'s warnings about mistakes that pass the dashboard's Test and the health check while
/// real deliveries are lost (SPEC "Seeing what happened, and what was lost").
extension SetupCheck {
    /// No token: anyone who finds the URL can post, and a `?token=` in the URL the user
    /// copied from the README protects nothing.
    func checkTokenSet(_ settings: Settings, into report: inout Report) {
        guard settings.token == nil else { return }
        report.problems.append("\(Settings.Key.token) is not set: anyone who finds the URL can post deliveries, and a ?token= in it is not checked; set it to a secret (openssl rand -hex 32) and add ?token=SECRET to the webhook URL")
    }

    /// The read token is meant for people and scrapers, the sender's for Streampixel: one
    /// value for both lets anyone holding the webhook URL read every build and its output.
    func checkReadTokenDiffers(_ settings: Settings, into report: inout Report) {
        guard let read = settings.readToken, read == settings.token else { return }
        report.problems.append("\(Settings.Key.readToken) is the same as \(Settings.Key.token): whoever has the webhook URL can also read the metrics and the status page (every build and its handlers' output); give it its own secret (openssl rand -hex 32)")
    }

    /// A file saved on Windows: a handler's `#!/bin/sh\r` names a program that does not exist
    /// (it fails as "No such file or directory"), and `handlers.env`'s values end in `\r`.
    func checkLineEndings(_ directory: String, names: [String], into report: inout Report) {
        for name in names.sorted() where HandlerFileCheck.handlerNames.contains(name) || name == "handlers.env" {
            let path = "\(directory)/\(name)"
            guard DirectoryListing.status(path).map({ $0.st_mode & S_IFMT == S_IFREG }) == true,
                  let head = SetupCheck.firstBytes(of: path) else { continue }
            guard zip(head, head.dropFirst()).contains(where: { $0 == UInt8(ascii: "\r") && $1 == UInt8(ascii: "\n") }) else { continue }
            let harm = name == "handlers.env"
                ? "each value ends in a carriage return the handlers do not expect"
                : "its first line names a program ending in a carriage return, so it fails as \"No such file or directory\""
            report.problems.append("\(path) has CRLF (Windows) line endings: \(harm) (sed -i 's/\\r$//' \(path))")
        }
    }

    /// The first 4 KiB (the `#!` line, the first settings): enough to tell how lines end.
    static func firstBytes(of path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        return count > 0 ? Array(buffer[..<count]) : nil
    }

    /// Run as someone else than the spool's owner (root switches to the owner before this):
    /// what this user may do is not what the web server's user may do.
    func checkSpoolOwner(_ root: String, info: stat, into report: inout Report) -> Bool {
        let us = geteuid()
        guard info.st_uid != us else { return true }
        let owner = SpoolTrust.accountName(info.st_uid)
        report.problems.append("check runs as \(SpoolTrust.describe(us)), but the spool \(root) belongs to \(SpoolTrust.describe(info.st_uid)), who the web server runs pixelhook as: run it as that user (sudo -u \(owner) pixelhook check)")
        return false
    }

    /// Deliveries the request log shows were not stored in the last `RefusalSummary` window,
    /// counted per reason; read from the log's end backwards, never more than it needs.
    func checkRecentRefusals(_ settings: Settings, into report: inout Report, now: Int = Clock.milliseconds()) {
        let seconds = SetupCheck.refusalWindowSeconds
        let since = RequestLogTail.time(secondsAgo: seconds, now: now)
        let tail: RequestLogTail.Lines
        do {
            tail = try RequestLogTail(spool: Spool(root: settings.spool)).lines(since: since)
        } catch {
            report.problems.append("request log \(Spool(root: settings.spool).layout.requestLog) cannot be read: \(error)")
            return
        }
        let records = tail.lines.compactMap { RequestRecord(line: $0) }
        report.problems += RefusalSummary.lines(records, projectIDs: settings.projectIDs,
                                                window: "\(seconds / 3600) hours")
    }

    /// Deliveries whose handler failed `PIXELHOOK_RETRY_LIMIT` times: `retry` runs them no
    /// more, so nobody acts on them unless someone looks. Only the builds listed in
    /// `SPOOL/gave-up/` are read, so the cost does not grow with the spool.
    func checkGaveUp(_ settings: Settings, into report: inout Report) {
        let spool = Spool(root: settings.spool)
        var ids: [String] = []
        for build in PendingBuilds.gaveUp(spool: spool).listed() {
            guard let deliveries = try? BuildQueue(spool: spool, build: build).deliveries() else { continue }
            ids += deliveries.filter { $0.result()?.state == .gaveUp }.map(\.id)
        }
        guard let first = ids.sorted().first else { return }
        let shown = ids.sorted().prefix(SetupCheck.gaveUpShown).joined(separator: ", ")
        let more = ids.count > SetupCheck.gaveUpShown ? " and \(ids.count - SetupCheck.gaveUpShown) more" : ""
        report.problems.append("\(ids.count) deliver\(ids.count == 1 ? "y" : "ies") gave up after \(Settings.Key.retryLimit) attempts and retry runs \(ids.count == 1 ? "it" : "them") no more: \(shown)\(more) (pixelhook show \(first) says why; pixelhook replay \(first) runs it again)")
    }

    /// How many gave-up deliveries `check` names before it only counts them.
    static let gaveUpShown = 5

    /// How far back `check` looks for refusals.
    public static let refusalWindowSeconds = 86_400
}
