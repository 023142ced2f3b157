import Foundation
import Testing
import PixelhookCore
@testable import PixelhookRuntime

@Suite struct StatusPageTests {
    /// The page's cost is bounded: of 60 builds only the newest 50 are shown, and of a handler's
    /// output (here 1 MiB) only the first `BuildsPage.outputBytes` are read.
    @Test func showsTheNewestFiftyBuildsAndTheStartOfEachOutput() throws {
        let scratch = try ScratchSpool()
        try scratch.handler("default", #"echo "first line of $PIXELHOOK_DELIVERY"; head -c 1048576 /dev/zero | tr '\0' x"#)
        let settings = scratch.settings()
        let spool = Spool(root: settings.spool)
        for index in 0..<60 {
            let stored = try delivery(payload(event: "build.uploaded", uploadId: "u\(index)"))
            _ = try spool.store(stored)
            // Directory times a second apart, oldest first, as deliveries arriving over a minute.
            let directory = spool.layout.buildDirectory(stored.key.buildID)
            let when = Date(timeIntervalSince1970: 1_700_000_000 + Double(index))
            try FileManager.default.setAttributes([.modificationDate: when], ofItemAtPath: StoredDelivery(directory: directory, event: "build.uploaded").payloadPath)
            try FileManager.default.setAttributes([.modificationDate: when], ofItemAtPath: directory)
        }
        let last = try delivery(payload(event: "build.uploaded", uploadId: "u59"))
        try BuildQueue(settings: settings, key: last.key).drain()
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: 1_700_000_059)],
                                              ofItemAtPath: spool.layout.buildDirectory(last.key.buildID))

        let stored = try spool.storedBuilds(newest: StatusPage.buildLimit, outputHead: BuildsPage.outputBytes)
        let newest = stored.first { $0.id.build == "u59" }
        #expect(newest?.entries.first?.outputHead?.count == BuildsPage.outputBytes)
        #expect(newest?.entries.first?.result?.outputBytes ?? 0 > BuildsPage.outputBytes)
        #expect(try spool.storedBuilds(newest: 1).first?.entries.first?.outputHead == nil)  // `builds` reads none

        let html = try StatusPage.html(settings: settings, now: 1_700_000_100_000)
        let shown = html.components(separatedBy: "<span class=\"upload\">").dropFirst().map { $0.prefix { $0 != "<" } }
        #expect(shown == (10..<60).reversed().map { "u\($0)"[...] })
        #expect(html.contains("first line of p1/u59/build.uploaded\n" + String(repeating: "x", count: 20)))
        #expect(html.contains("…</pre>"))
    }
}
