import Foundation
import PixelhookTestSupport
import Testing

/// `GET ?view=builds` opened by a real browser (Debian's headless `chromium`) through nginx:
/// what an operator sees on a phone, and proof that a hostile objection stays text.
///
/// Chromium runs the page's scripts before `--dump-dom` prints the DOM, so an objection that
/// reached the page as markup would have renamed the title or marked the body.
@Suite("Status page in a browser", .serialized)
struct StatusPageBrowserTests {
    static let readToken = "read-5ecret"
    static let sendToken = "send-5ecret"
    /// Both scripts would change the DOM if they ran; neither needs a double quote, which the
    /// test's payload builder does not escape.
    static let hostileObjection =
        "<script>document.title='pwned'</script><img src=x onerror=document.body.setAttribute('data-pwned','yes')>"
    /// Where the screenshot and the dumped DOM are kept for a person to look at (gitignored).
    static let artifacts = BuiltBinary.packageRoot + "/.build/test-artifacts"

    @Test("chromium shows builds newest first, stages in order, the objection as text, the failed handler",
          arguments: [Gateway.nginxFastCGI, .nginxFcgiwrap])
    func pageInChromium(gateway: Gateway) throws {
        let server = try WebServerFixture(gateway, settings: [
            "PIXELHOOK_READ_TOKEN": Self.readToken, "PIXELHOOK_TOKEN": Self.sendToken])
        try server.writeHandler(named: "default", """
            echo "deploying $PIXELHOOK_DELIVERY"
            echo "step two of <b>three</b> & more"
            case "$PIXELHOOK_DELIVERY" in
              */u-failed/build.downloading) echo "error: disk full" >&2; exit 3 ;;
            esac
            """)
        let normal = ["build.uploaded", "build.downloading", "build.extracting", "build.saving", "build.distributing", "build.approved"]
        for event in normal { try Self.send(server, Payloads.event(event, uploadId: "u-normal")) }
        try server.waitForHandlers(count: normal.count)
        try Self.send(server, Payloads.event("build.uploaded", uploadId: "u-rejected"))
        try Self.send(server, Payloads.event("build.rejected", uploadId: "u-rejected", status: "Reject",
                                                         objection: Self.hostileObjection))
        try server.waitForHandlers(count: normal.count + 2)
        try Self.send(server, Payloads.event("build.uploaded", uploadId: "u-failed"))
        try Self.send(server, Payloads.event("build.downloading", uploadId: "u-failed"))
        try server.waitForHandlers(count: normal.count + 4)

        let query = "view=builds&token=\(Self.readToken)"
        let reply = try server.request("GET", contentType: nil, query: query)
        #expect(reply.status == 200)
        #expect(reply.headers.first { $0.name.lowercased() == "content-type" }?.value == "text/html; charset=utf-8")

        let name = gateway == .nginxFastCGI ? "status-page" : "status-page-\(gateway.rawValue)"
        let dom = try Chromium.dumpDOM(server.url(path: gateway.path) + "?" + query, artifacts: Self.artifacts, name: name)

        // The hostile objection did not run and added no element; it is there as text.
        #expect(dom.contains("<title>pixelhook builds</title>"))
        #expect(!dom.contains("pwned</title>"))
        #expect(!dom.contains("data-pwned=\""))  // the attribute the onerror would set
        #expect(!dom.contains("<script"))
        #expect(!dom.contains("<img"))
        #expect(dom.contains(
            "<p class=\"objection\">&lt;script&gt;document.title='pwned'&lt;/script&gt;&lt;img src=x onerror=document.body.setAttribute('data-pwned','yes')&gt;</p>"))

        // Newest build first, each build's stages in pipeline order.
        let sections = Self.sections(of: dom)
        #expect(sections.map(\.upload) == ["u-failed", "u-rejected", "u-normal"])
        let approved = sections.first { $0.upload == "u-normal" }
        #expect(approved?.events == normal)
        #expect(approved?.html.contains("<p class=\"outcome\">approved</p>") == true)
        #expect(approved?.html.contains("deploying 664f1a2b3c4d5e6f7a8b9c0d/u-normal/build.approved\nstep two of &lt;b&gt;three&lt;/b&gt; &amp; more") == true)
        let rejected = sections.first { $0.upload == "u-rejected" }
        #expect(rejected?.events == ["build.uploaded", "build.rejected"])
        #expect(rejected?.html.contains("<p class=\"outcome\">rejected</p>") == true)

        // The failed handler's state and its output.
        let failed = sections.first { $0.upload == "u-failed" }
        #expect(failed?.events == ["build.uploaded", "build.downloading"])
        #expect(failed?.html.contains("<p class=\"outcome\">in progress, 1 handler failed</p>") == true)
        #expect(failed?.html.contains(
            "<li class=\"stage state-failed\"><div class=\"line\"><span class=\"event\">build.downloading</span> <span class=\"handler\">failed (exit 3)</span>") == true)
        #expect(failed?.html.contains("error: disk full") == true)
        #expect(FileManager.default.fileExists(atPath: "\(Self.artifacts)/\(name).png"))
    }

    /// Posts one delivery with the sender's token; it must be stored.
    static func send(_ server: WebServerFixture, _ body: Data, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let reply = try server.post(body, query: "token=\(sendToken)")
        #expect(reply.status == 200, "\(reply)", sourceLocation: sourceLocation)
    }

    /// Each `<section class="build …">` of the DOM: its upload id, its stages' events in page
    /// order, and its markup.
    static func sections(of dom: String) -> [(upload: String, events: [String], html: String)] {
        dom.components(separatedBy: "<section class=\"build ").dropFirst().map { html in
            (upload: between(html, "<span class=\"upload\">", "</span>").first ?? "",
             events: between(html, "<span class=\"event\">", "</span>"),
             html: html)
        }
    }

    static func between(_ text: String, _ start: String, _ end: String) -> [String] {
        text.components(separatedBy: start).dropFirst().compactMap { $0.components(separatedBy: end).first }
    }
}

/// Debian's `chromium`, headless, as root (hence `--no-sandbox`), with a profile of its own.
enum Chromium {
    /// Loads `url` at a phone's size (412 × 900 CSS pixels), keeps `NAME.png` (the screenshot),
    /// `NAME.html` (the DOM after scripts ran) and `NAME.log` in `artifacts`, and returns the DOM.
    /// `timeout` stops a browser that hangs, by its PID, after 60 s.
    static func dumpDOM(_ url: String, artifacts: String, name: String) throws -> String {
        try FileManager.default.createDirectory(atPath: artifacts, withIntermediateDirectories: true)
        let profileDirectory = try TemporaryDirectory(prefix: "pixelhook-chromium")
        let profile = profileDirectory.path
        defer { profileDirectory.remove() }
        let chromium = try InstalledTool.path("chromium")
        let common = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
                      "--user-data-dir=\(profile)", "--window-size=412,900", "--force-device-scale-factor=1"]
        let base = "\(artifacts)/\(name)"
        let environment = ["PATH": "/usr/bin:/bin", "HOME": profile, "LANG": "C.UTF-8"]
        // stdout (the DOM) and stderr (chromium's log) apart: ToolRun mixes them.
        let shell = #"out="$1"; err="$2"; shift 2; exec timeout 60 "$@" >"$out" 2>>"$err""#
        try? FileManager.default.removeItem(atPath: base + ".log")
        for (arguments, output) in [(["--dump-dom"], base + ".html"), (["--screenshot=\(base).png"], "/dev/null")] {
            try? FileManager.default.removeItem(atPath: base + ".png")
            let (status, _) = try ToolRun.run("/bin/sh", ["-c", shell, "sh", output, base + ".log", chromium] + common + arguments + [url],
                                              environment: environment)
            guard status == 0 else {
                throw FixtureError("chromium \(arguments) exited \(status): " + ((try? String(contentsOfFile: base + ".log", encoding: .utf8)) ?? ""))
            }
        }
        return try String(contentsOfFile: base + ".html", encoding: .utf8)
    }
}
