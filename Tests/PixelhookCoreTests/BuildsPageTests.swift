import Testing
@testable import PixelhookCore

@Suite("BuildsPage")
struct BuildsPageTests {
    typealias Rows = BuildReportTests
    static let hostile = "<script>document.title='pwned'</script> & \"quoted\" <img src=x onerror=alert(1)>"

    static func page(_ builds: [StoredBuild], now: Int = Rows.start + Rows.hour) -> String {
        BuildsPage.html(BuildReport.rows(builds, now: now, stalledAfterSeconds: 3600), now: now, shownAtMost: 50)
    }

    /// The position of each needle in `text`, in order; fails when one is missing.
    static func offsets(_ needles: [String], in text: String) -> [Int] {
        needles.map { needle in
            guard let range = text.range(of: needle) else {
                Issue.record("\(needle) not on the page")
                return -1
            }
            return text.distance(from: text.startIndex, to: range.lowerBound)
        }
    }

    @Test("the five characters HTML gives meaning to become references; control characters U+FFFD")
    func escapesMarkupAndQuotes() {
        #expect(BuildsPage.escape(#"<a href="x" title='y'>&amp;</a>"#)
            == "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;")
        #expect(BuildsPage.escape("a\u{1B}[31mb\u{0}c\n\td") == "a\u{FFFD}[31mb\u{FFFD}c\n\td")
        #expect(BuildsPage.escape("Ünïcode ✓") == "Ünïcode ✓")
    }

    @Test("a hostile objection, upload id, status and handler output appear only escaped")
    func hostileTextIsEscaped() {
        var output = Array("line <b>one</b> & \"two\"\n".utf8)
        output += Array(Self.hostile.utf8)
        let build = StoredBuild(
            id: BuildID(projectId: Fixture.projectId, uploadId: "u<1>&\"x\""), isLocked: false,
            entries: [
                StoredBuild.Entry(
                    name: "build.rejected",
                    body: Fixture.payload(event: "build.rejected", uploadId: "u<1>&\"x\"", status: "<i>Reject</i>",
                                          objection: Self.hostile),
                    receivedAt: Rows.start, result: Rows.result(.failed, exitCode: 3), outputHead: output),
            ])
        let html = Self.page([build])
        #expect(!html.contains("<script"))
        #expect(!html.contains("<img"))
        #expect(!html.contains("<i>"))
        #expect(!html.contains("<b>"))
        #expect(!html.contains("onerror=alert(1)>"))
        let escaped = BuildsPage.escape(Self.hostile)
        #expect(html.contains("<p class=\"objection\">\(escaped)</p>"))
        #expect(html.contains("u&lt;1&gt;&amp;&quot;x&quot;"))
        #expect(html.contains("line &lt;b&gt;one&lt;/b&gt; &amp; &quot;two&quot;"))
        #expect(html.contains("&lt;i&gt;Reject&lt;/i&gt;"))
    }

    @Test("self-contained: no script, no external resource, a viewport for phones")
    func selfContained() {
        let html = Self.page([Rows.build([Rows.entry("build.uploaded", sentAfter: 0)])])
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.contains("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"))
        for forbidden in ["<script", "<link", "src=", "href=", "@import", "url("] {
            #expect(!html.contains(forbidden), "\(forbidden)")
        }
    }

    @Test("stages in pipeline order whatever order they arrived in, with times and handler state")
    func stagesInPipelineOrder() {
        let html = Self.page([Rows.build([
            Rows.entry("build.extracting", sentAfter: 2 * Rows.minute, result: Rows.result(.failed, exitCode: 3)),
            Rows.entry("build.uploaded", sentAfter: 0),
            Rows.entry("build.downloading", sentAfter: Rows.minute, result: nil),
        ])])
        let positions = Self.offsets(["build.uploaded</span>", "build.downloading</span>", "build.extracting</span>"], in: html)
        #expect(positions == positions.sorted())
        #expect(html.contains("<li class=\"stage state-failed\"><div class=\"line\"><span class=\"event\">build.extracting</span> <span class=\"handler\">failed (exit 3)</span>"))
        #expect(html.contains("<li class=\"stage state-pending\"><div class=\"line\"><span class=\"event\">build.downloading</span>"))
        #expect(html.contains("<p class=\"outcome\">in progress, 1 handler failed</p>"))
        #expect(html.contains("received <time>2026-03-29T14:30:00.300Z</time>"))
        #expect(html.contains("+1m"))
    }

    @Test("newest build first, by its last event")
    func newestFirst() {
        let older = Rows.build(upload: "older-upload", [Rows.entry("build.uploaded", upload: "older-upload", sentAfter: 0)])
        let newer = Rows.build(upload: "newer-upload", [Rows.entry("build.uploaded", upload: "newer-upload", sentAfter: Rows.minute)])
        let html = Self.page([older, newer])
        let positions = Self.offsets(["newer-upload", "older-upload"], in: html)
        #expect(positions[0] < positions[1])
        #expect(html.contains("at most 50 builds"))
    }

    @Test("a running build's unfinished handler shows running; no builds says so")
    func runningAndEmpty() {
        let html = Self.page([Rows.build(locked: true, [Rows.entry("build.uploaded", sentAfter: 0, result: nil)])])
        #expect(html.contains("state-running"))
        #expect(html.contains("handlers running"))
        #expect(Self.page([]).contains("No builds in the spool yet."))
    }

    @Test("output: the first ten lines, an ellipsis when more was written")
    func outputFirstLines() {
        let lines = (1...12).map { "line \($0)" }.joined(separator: "\n") + "\n"
        let cut = BuildsPage.firstLines(Array(lines.utf8))
        #expect(cut.text == (1...10).map { "line \($0)" }.joined(separator: "\n"))
        #expect(cut.cut)
        let whole = BuildsPage.firstLines(Array("one\ntwo\n".utf8))
        #expect(whole.text == "one\ntwo")
        #expect(!whole.cut)
        #expect(BuildsPage.firstLines([0x61, 0xE2, 0x82]).text == "a\u{FFFD}")  // cut mid-character
    }
}
