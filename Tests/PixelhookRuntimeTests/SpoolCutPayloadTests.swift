import Foundation
import Testing
import PixelhookCore
@testable import PixelhookRuntime

/// A payload that a power cut cut short between its link and its sync (`Spool.store`): it was
/// never answered, so a duplicate replaces it and a runner leaves it alone. A test cannot cut
/// the power, so it writes what one leaves: the payload's name, still writable (0600), over an
/// empty, zeroed or truncated body.
@Suite struct SpoolCutPayloadTests {
    static let body = payload(uploadId: "u1")
    static let cuts: [(name: String, content: [UInt8])] = [
        ("empty", []),
        ("zeros", [UInt8](repeating: 0, count: body.count)),
        ("truncated", Array(body.prefix(body.count / 2))),
        ("all but the closing brace", Array(body.dropLast())),
    ]

    func mode(_ path: String) -> mode_t {
        var info = stat()
        return stat(path, &info) == 0 ? info.st_mode & 0o777 : 0
    }

    /// Stores `stored`, then leaves its payload as a power cut after the link would.
    func storeAndCut(_ spool: Spool, _ stored: Delivery, to content: [UInt8]) throws {
        #expect(try spool.store(stored) == .stored)
        let path = spool.layout.payloadPath(stored.key)
        #expect(chmod(path, 0o600) == 0)
        try Data(content).write(to: URL(fileURLWithPath: path))
    }

    @Test(arguments: cuts.map(\.name))
    func aDuplicateReplacesAPayloadCutShortAndCountsAsStored(_ cut: String) throws {
        let scratch = try ScratchSpool()
        let spool = Spool(root: scratch.spool)
        let stored = try delivery(Self.body)
        try storeAndCut(spool, stored, to: try #require(Self.cuts.first { $0.name == cut }).content)

        #expect(try spool.store(stored) == .stored)
        let path = spool.layout.payloadPath(stored.key)
        #expect(FileManager.default.contents(atPath: path) == Data(Self.body))
        #expect(mode(path) == Spool.durableMode)
        #expect(!scratch.files(under: ScratchSpool.spoolFiles.deliveries).contains { $0.contains(SpoolLayout.temporaryPrefix) })
        #expect(try spool.store(stored) == .duplicate)
    }

    @Test func aWholeUnmarkedPayloadWithOtherBytesIsKeptAndTheNewOneIsADuplicate() throws {
        let scratch = try ScratchSpool()
        let spool = Spool(root: scratch.spool)
        let stored = try delivery(Self.body)
        #expect(try spool.store(stored) == .stored)
        let path = spool.layout.payloadPath(stored.key)
        #expect(chmod(path, 0o600) == 0)  // its writer between link and sync
        // The same event sent again with other bytes (a later timestamp): the same key.
        let resent = try delivery(Array(String(decoding: Self.body, as: UTF8.self)
            .replacingOccurrences(of: "14:30:00.000Z", with: "14:31:00.000Z").utf8))
        #expect(resent.key == stored.key && resent.body != stored.body)

        #expect(try spool.store(resent) == .duplicate)
        #expect(FileManager.default.contents(atPath: path) == Data(Self.body))
        #expect(mode(path) == Spool.durableMode)
    }

    @Test func aWholeJSONObjectUnderTheNameIsKeptEvenIfItIsNoValidEnvelope() throws {
        let scratch = try ScratchSpool()
        let spool = Spool(root: scratch.spool)
        let stored = try delivery(Self.body)
        let older = Array("{\"event\":\"build.approved\",\"note\":\"stored by an older version\"}".utf8)
        try storeAndCut(spool, stored, to: older)

        #expect(try spool.store(stored) == .duplicate)
        #expect(FileManager.default.contents(atPath: spool.layout.payloadPath(stored.key)) == Data(older))
    }

    @Test func aRunnerLeavesAPayloadCutShortAloneAndRunsTheDuplicateThatReplacesIt() throws {
        let scratch = try ScratchSpool()
        try scratch.handler("default", #"cat >> ../ran"#)
        let settings = scratch.settings()
        let spool = Spool(root: settings.spool)
        let stored = try delivery(Self.body)
        try storeAndCut(spool, stored, to: [])
        let queue = BuildQueue(settings: settings, key: stored.key)

        #expect(try queue.drain().isEmpty)
        #expect(scratch.read("ran") == nil)
        #expect(!FileManager.default.fileExists(atPath: scratch.spoolLayout.companionPath(DeliveryKey(project: "p1", build: "u1", event: "build.approved"), .result)))

        #expect(try spool.store(stored) == .stored)
        #expect(try queue.drain()[SpoolLayout.payloadName(event: "build.approved")]?.state == .done)
        #expect(scratch.read("ran") == String(decoding: Self.body, as: UTF8.self))
    }

    @Test func aPayloadCutShortIsNoDeliveryToRetryReplayOrBuilds() throws {
        let scratch = try ScratchSpool()
        let settings = scratch.settings()
        let spool = Spool(root: settings.spool)
        let whole = try delivery(payload(event: "build.uploaded"))
        let cut = try delivery(Self.body)
        #expect(try spool.store(whole) == .stored)
        try storeAndCut(spool, cut, to: [])

        let queue = BuildQueue(settings: settings, key: cut.key)
        #expect(try queue.deliveries().map(\.name) == [SpoolLayout.payloadName(event: "build.uploaded")])
        #expect(try queue.candidates(.pending()).map(\.name) == [SpoolLayout.payloadName(event: "build.uploaded")])
        #expect(try Replay(settings: settings, uploadId: "u1", event: "build.approved").matches().isEmpty)
        #expect(try spool.storedBuilds().flatMap(\.entries).map(\.name) == ["build.uploaded"])
    }

    @Test func aMarkedPayloadThatNoLongerParsesStillFailsItsRun() throws {
        let scratch = try ScratchSpool()
        try scratch.handler("default", "exit 0")
        let settings = scratch.settings()
        let spool = Spool(root: settings.spool)
        let stored = try delivery(Self.body)
        try storeAndCut(spool, stored, to: Array("{\"damaged".utf8))
        #expect(chmod(spool.layout.payloadPath(stored.key), Spool.durableMode) == 0)  // it had been answered

        let result = try BuildQueue(settings: settings, key: stored.key).drain()[SpoolLayout.payloadName(event: "build.approved")]
        #expect(result?.state == .failed)
        #expect(result?.detail == "stored payload no longer parses")
    }
}
