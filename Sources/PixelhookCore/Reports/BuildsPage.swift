/// `GET ?view=builds`: the builds of `pixelhook builds` as one HTML page an operator opens on a
/// phone when a deploy did not happen (SPEC "Metrics and the status page").
///
/// ```swift
/// let page = BuildsPage.html(rows, now: nowMs, shownAtMost: 50)
/// ```
///
/// Self-contained: inline CSS, no script, font, image or link to anything else, so it renders
/// the same behind any proxy and a `Content-Security-Policy: default-src 'none'` costs nothing.
/// Everything a sender or a handler wrote (ids, objections, statuses, output) goes through
/// `escape`, quotes included, so no payload can add markup or an attribute.
public enum BuildsPage {
    /// How much of a handler's output the page shows: the first lines, and no more bytes than
    /// this (the runtime reads only this much of each output file).
    public static let outputLines = 10
    public static let outputBytes = 2048

    public static let contentType = "text/html; charset=utf-8"
    /// Defence in depth beside the escaping: the page needs no script and nothing from
    /// elsewhere, so the browser is told to run and fetch none, and not to guess the type.
    public static let headers: [(String, String)] = [
        ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'"),
        ("X-Content-Type-Options", "nosniff"),
        ("Cache-Control", "no-store"),
    ]

    /// `rows` newest first, as `BuildReport.rows` orders them; `shownAtMost` is the limit the
    /// caller read with, named on the page so a missing older build is not a mystery.
    /// `notice`, when given, is shown above the builds (cluster mode: the cluster could not be
    /// read, this is one host's spool); `scope` names where the builds come from.
    public static func html(_ rows: [BuildReport], now: Int, shownAtMost limit: Int, notice: String? = nil,
                            scope: String = "the spool") -> String {
        var page = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="robots" content="noindex">
            <title>pixelhook builds</title>
            <style>\(style)</style>
            </head>
            <body>
            <header><h1>pixelhook builds</h1>
            <p class="meta">\(escape(EpochTime.iso8601(milliseconds: now))) · newest first, at most \(limit) builds</p></header>

            """
        if let notice { page += "<p class=\"notice\">\(escape(notice))</p>\n" }
        if rows.isEmpty {
            page += "<p class=\"empty\">No builds in \(escape(scope)) yet.</p>\n"
        }
        for row in rows { page += section(row, now: now) }
        page += "</body>\n</html>\n"
        return page
    }

    static func section(_ row: BuildReport, now: Int) -> String {
        let upload = row.uploadId ?? "(no uploadId)"
        var text = "<section class=\"build outcome-\(row.outcome.rawValue)\">\n"
        text += "<h2><span class=\"project\">\(escape(row.projectId))</span> "
        text += "<span class=\"upload\">\(escape(upload))</span></h2>\n"
        text += "<p class=\"outcome\">\(escape(outcomeLabel(row, now: now)))</p>\n"
        if let objection = row.objection {
            text += "<p class=\"objection\">\(escape(objection))</p>\n"
        }
        text += "<ol class=\"stages\">\n"
        for stage in row.stages { text += item(stage, buildRunning: row.isRunning) }
        text += "</ol>\n</section>\n"
        return text
    }

    /// The headline without the objection, which has a line of its own, and how many handlers
    /// ended badly (anything but done or waiting for a retry): what the operator came to find.
    static func outcomeLabel(_ row: BuildReport, now: Int) -> String {
        var plain = row
        plain.objection = nil
        let failed = row.stages.filter { stage in
            stage.result.map { $0.state != .done && $0.state != .retry } ?? false
        }.count
        let failures = failed == 0 ? "" : failed == 1 ? ", 1 handler failed" : ", \(failed) handlers failed"
        return plain.outcomeText(now: now) + failures
    }

    static func item(_ stage: BuildReport.Stage, buildRunning: Bool) -> String {
        let state = stage.result?.state.rawValue ?? (buildRunning ? "running" : "pending")
        let summary = stage.result?.summary ?? state
        var text = "<li class=\"stage state-\(className(state))\">"
        text += "<div class=\"line\"><span class=\"event\">\(escape(stage.event))</span>"
        text += " <span class=\"handler\">\(escape(summary))</span></div>\n"
        var facts: [String] = []
        if let status = stage.status, !status.isEmpty { facts.append(escape(status)) }
        facts.append("received <time>\(escape(EpochTime.iso8601(milliseconds: stage.receivedAt)))</time>")
        if let gap = stage.sincePreviousMs { facts.append("+\(escape(DurationText.describe(milliseconds: gap)))") }
        if let result = stage.result {
            facts.append("ran \(escape(DurationText.describe(milliseconds: result.durationMs)))")
            facts.append(result.attempts == 1 ? "1 attempt" : "\(result.attempts) attempts")
        }
        if let hosts = stage.hosts {
            facts.append("stored by <span class=\"host\">\(escape(hosts.storedText))</span>")
            if hosts.runningOn != nil || hosts.ranBy != nil {
                let verb = hosts.runningOn != nil ? "running on" : "ran by"
                facts.append("\(verb) <span class=\"host\">\(escape(hosts.runningOn ?? hosts.ranBy ?? ""))</span>")
            }
        }
        text += "<div class=\"facts\">\(facts.joined(separator: " · "))</div>\n"
        text += "<div class=\"delivery\">\(escape(stage.delivery))</div>\n"
        if let head = stage.outputHead, !head.isEmpty {
            let shown = firstLines(head)
            let more = shown.cut || (stage.result.map { $0.outputBytes > head.count || $0.outputTruncated } ?? false)
            text += "<pre class=\"output\">\(escape(shown.text))\(more ? "\n…" : "")</pre>\n"
        }
        text += "</li>\n"
        return text
    }

    /// A state as a class name: letters, digits and `_` kept, anything else `-` (`gave up` →
    /// `gave-up`).
    static func className(_ text: String) -> String {
        String(text.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") ? $0 : "-" })
    }

    /// At most `outputLines` lines of `bytes` (invalid UTF-8 repaired); `cut` when more followed.
    static func firstLines(_ bytes: [UInt8]) -> (text: String, cut: Bool) {
        var end = bytes.count, newlines = 0
        for (index, byte) in bytes.enumerated() where byte == UInt8(ascii: "\n") {
            newlines += 1
            if newlines == outputLines { end = index; break }
        }
        var text = String(decoding: bytes[..<end], as: UTF8.self)
        while text.hasSuffix("\n") { text.removeLast() }
        return (text, end < bytes.count - 1)
    }

    /// Text safe as element content and as a quoted attribute value: the five characters HTML
    /// gives meaning to become references, and control characters (other than newline and tab)
    /// become U+FFFD, which no browser reinterprets.
    public static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            case "\n", "\t": escaped.unicodeScalars.append(scalar)
            default:
                if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) {
                    escaped += "\u{FFFD}"
                } else {
                    escaped.unicodeScalars.append(scalar)
                }
            }
        }
        return escaped
    }

    /// Phone first: one column, long ids wrap, output scrolls sideways inside its box.
    static let style = """
        body{font:15px/1.4 system-ui,sans-serif;margin:0 auto;max-width:60rem;padding:.5rem;color:#111;background:#fafafa}\
        h1{font-size:1.2rem;margin:.3rem 0}.meta{color:#555;margin:0 0 .8rem;font-size:.85rem}\
        .build{background:#fff;border:1px solid #ccc;border-left:.4rem solid #888;border-radius:4px;margin:0 0 .8rem;padding:.5rem .7rem}\
        .outcome-approved{border-left-color:#2a7d2a}.outcome-rejected{border-left-color:#b22}\
        .outcome-stalled{border-left-color:#c80}.outcome-in_progress{border-left-color:#269}\
        h2{font-size:1rem;margin:0;overflow-wrap:anywhere}.upload{color:#444;font-weight:normal}\
        .outcome{margin:.2rem 0;font-weight:bold}.objection{margin:.2rem 0;padding:.3rem .5rem;background:#fdecec;border-radius:3px;overflow-wrap:anywhere;white-space:pre-wrap}\
        .stages{margin:.4rem 0 0;padding-left:1.4rem}.stage{margin:.3rem 0}\
        .line{display:flex;flex-wrap:wrap;gap:.2rem .6rem;justify-content:space-between}\
        .event{font-family:ui-monospace,monospace;font-weight:bold}\
        .handler{font-size:.85rem;padding:0 .4rem;border-radius:3px;background:#eee}\
        .state-done .handler{background:#dff0d8}.state-failed .handler,.state-timeout .handler,.state-gave_up .handler,.state-gave-up .handler{background:#b22;color:#fff}\
        .state-retry .handler,.state-pending .handler{background:#fcf0c8}.state-running .handler{background:#d9e8f6}\
        .facts,.delivery{color:#555;font-size:.8rem;overflow-wrap:anywhere}\
        .notice{margin:0 0 .8rem;padding:.4rem .6rem;background:#b22;color:#fff;border-radius:4px;font-weight:bold}\
        .host{font-family:ui-monospace,monospace}\
        .output{background:#f3f3f3;font-size:.75rem;margin:.2rem 0;padding:.3rem;overflow-x:auto;white-space:pre}
        """
}
