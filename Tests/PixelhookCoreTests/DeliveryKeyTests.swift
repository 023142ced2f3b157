import Testing
@testable import PixelhookCore

@Suite("DeliveryKey")
struct DeliveryKeyTests {
    static let emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    static let abcSHA256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

    static func envelope(event: String = "build.approved", projectId: String = Fixture.projectId,
                         uploadId: String? = Fixture.uploadId, timestamp: String = Fixture.timestamp) -> Envelope {
        Envelope(event: event, projectId: projectId, uploadId: uploadId, fileUrl: nil,
                 status: "Approved", objection: nil, timestamp: timestamp)
    }

    static func isLowercaseHex(_ text: Substring) -> Bool {
        text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    // MARK: SHA-256

    @Test("sha256Hex of known inputs")
    func sha256Known() {
        #expect(DeliveryKey.sha256Hex([]) == Self.emptySHA256)
        #expect(DeliveryKey.sha256Hex(Array("abc".utf8)) == Self.abcSHA256)
    }

    // MARK: Dedup key

    @Test("the key is (projectId, uploadId, event) with readable ids kept")
    func dedupKey() {
        let body = Fixture.payload(event: "build.approved")
        let key = DeliveryKey(envelope: Self.envelope(), body: body, testNonce: "n1")
        #expect(key.project == Fixture.projectId)
        #expect(key.build == Fixture.uploadId)
        #expect(key.event == "build.approved")
        #expect(key.id == "\(Fixture.projectId)/\(Fixture.uploadId)/build.approved")
        #expect(key == DeliveryKey(project: Fixture.projectId, build: Fixture.uploadId, event: "build.approved"))
    }

    @Test("the same ids with a different body (a redelivery) give the same key")
    func redeliverySameKey() {
        let first = DeliveryKey(envelope: Self.envelope(), body: Fixture.payload(event: "build.approved"), testNonce: "n1")
        let second = DeliveryKey(
            envelope: Self.envelope(timestamp: "2026-03-29T14:30:01.000Z"),
            body: Fixture.payload(event: "build.approved", timestamp: "2026-03-29T14:30:01.000Z"),
            testNonce: "n2")
        #expect(first == second)
    }

    @Test("changing any one of projectId, uploadId or event changes the key")
    func eachComponentMatters() {
        let body = Fixture.payload(event: "build.approved")
        let base = DeliveryKey(envelope: Self.envelope(), body: body, testNonce: "n")
        let others = [
            Self.envelope(projectId: "other"),
            Self.envelope(uploadId: "other"),
            Self.envelope(event: "build.rejected"),
        ].map { DeliveryKey(envelope: $0, body: body, testNonce: "n") }
        for other in others { #expect(other != base) }
        #expect(Set(others).count == 3)
    }

    // MARK: Null uploadId

    @Test("a null uploadId: build ~none, event segment carries the SHA-256 of the whole body")
    func nullUploadId() throws {
        let body = Fixture.payload(event: "build.uploaded", uploadId: nil)
        let key = DeliveryKey(envelope: Self.envelope(event: "build.uploaded", uploadId: nil), body: body, testNonce: "n")
        #expect(key.build == "~none")
        #expect(key.build == DeliveryKey.noUpload)
        #expect(key.event.hasPrefix("build.uploaded~"))
        let digest = key.event.dropFirst("build.uploaded~".count)
        #expect(digest.count == 64)
        #expect(Self.isLowercaseHex(digest))
        #expect(String(digest) == DeliveryKey.sha256Hex(body))
        #expect(!key.id.contains("//"))
    }

    @Test("a null uploadId: two different bodies give different keys, the same body the same key")
    func nullUploadIdDistinguishesBodies() {
        let envelope = Self.envelope(event: "build.uploaded", uploadId: nil)
        let bodyA = Fixture.payload(event: "build.uploaded", uploadId: nil, timestamp: "2026-03-29T13:00:00.000Z")
        let bodyB = Fixture.payload(event: "build.uploaded", uploadId: nil, timestamp: "2026-03-29T13:00:01.000Z")
        let keyA = DeliveryKey(envelope: envelope, body: bodyA, testNonce: "n1")
        let keyA2 = DeliveryKey(envelope: envelope, body: bodyA, testNonce: "n2")
        let keyB = DeliveryKey(envelope: envelope, body: bodyB, testNonce: "n1")
        #expect(keyA == keyA2)
        #expect(keyA != keyB)
        #expect(keyA.build == keyB.build)
    }

    @Test("a null uploadId cannot collide with a real upload called ~none or none")
    func nullUploadIdNoCollision() {
        let body = Fixture.payload(event: "build.uploaded", uploadId: nil)
        let nullKey = DeliveryKey(envelope: Self.envelope(uploadId: nil), body: body, testNonce: "n")
        for uploadId in ["~none", "none"] {
            let key = DeliveryKey(envelope: Self.envelope(uploadId: uploadId), body: body, testNonce: "n")
            #expect(key.build != nullKey.build)
        }
    }

    // MARK: webhook.test

    @Test("webhook.test is distinct per nonce and stable for one nonce")
    func testEventPerNonce() {
        let envelope = Self.envelope(event: "webhook.test", projectId: "test_project_id", uploadId: "test_upload_id")
        let body = Fixture.payload(event: "webhook.test", projectId: "test_project_id", uploadId: "test_upload_id")
        let a = DeliveryKey(envelope: envelope, body: body, testNonce: "nonce-a")
        let a2 = DeliveryKey(envelope: envelope, body: body, testNonce: "nonce-a")
        let b = DeliveryKey(envelope: envelope, body: body, testNonce: "nonce-b")
        #expect(a == a2)
        #expect(a != b)
        #expect(a.project == "test_project_id")
        #expect(a.build == "test_upload_id")
        #expect(a.event == "webhook.test~nonce-a")
    }

    @Test("webhook.test with a null uploadId goes under ~none, still per nonce")
    func testEventNullUpload() {
        let envelope = Self.envelope(event: "webhook.test", uploadId: nil)
        let body = Fixture.payload(event: "webhook.test", uploadId: nil)
        let a = DeliveryKey(envelope: envelope, body: body, testNonce: "1")
        let b = DeliveryKey(envelope: envelope, body: body, testNonce: "2")
        #expect(a.build == "~none")
        #expect(a != b)
    }

    @Test("a hostile nonce is made safe too")
    func hostileNonce() {
        let envelope = Self.envelope(event: "webhook.test")
        let key = DeliveryKey(envelope: envelope, body: [], testNonce: "../x")
        #expect(!key.event.contains("/"))
        #expect(key.event == "webhook.test~" + DeliveryKey.segment("../x"))
    }

    // MARK: Path segments

    @Test("readable ids are kept as they are", arguments: [
        "664f1a2b3c4d5e6f7a8b9c0d", "a", "Z", "0", "test_project_id", "build.approved", "a-b_c.d",
        "a..", "1.", String(repeating: "x", count: 64),
    ].map(Sample.init))
    func readableKept(sample: Sample) {
        let id = sample.value
        #expect(DeliveryKey.segment(id) == id)
        #expect(DeliveryKey.isReadable(id))
    }

    @Test("hostile ids become ~ and 64 hex digits, safe as a path segment", arguments: [
        "../../x", "a/b", "/", "x\u{0}y", "\u{0}", "line\nbreak", "tab\there", ".", "..", "", "...",
        String(repeating: "a", count: 10_000), String(repeating: "x", count: 65), "héllo", "~abc", "~none",
        "-rf", "_x", ".hidden", "a b", "a\\b", "a:b", "日本", "a\u{301}",
    ].map(Sample.init))
    func hostileHashed(sample: Sample) {
        let id = sample.value
        let segment = DeliveryKey.segment(id)
        #expect(!DeliveryKey.isReadable(id))
        #expect(segment == "~" + DeliveryKey.sha256Hex(Array(id.utf8)))
        #expect(segment.hasPrefix("~"))
        #expect(segment.utf8.count == 65)
        #expect(Self.isLowercaseHex(segment.dropFirst()))
        #expect(!segment.contains("/"))
        #expect(!segment.utf8.contains(0))
        #expect(segment != "." && segment != "..")
        #expect(segment != id)
    }

    @Test("every segment is at most 65 bytes and never a path trick", arguments: [
        "ok", "../../x", String(repeating: "y", count: 64), String(repeating: "y", count: 1_000), ".", "",
    ].map(Sample.init))
    func segmentBounds(sample: Sample) {
        let id = sample.value
        let segment = DeliveryKey.segment(id)
        #expect(segment.utf8.count <= 65)
        #expect(!segment.isEmpty)
        #expect(!segment.contains("/"))
        #expect(!segment.utf8.contains(0))
        #expect(segment != "." && segment != "..")
    }

    @Test("segment is deterministic, and different ids give different segments")
    func segmentDeterministic() {
        let ids = ["../../x", "a/b", "héllo", "abc", String(repeating: "z", count: 100)]
        for id in ids { #expect(DeliveryKey.segment(id) == DeliveryKey.segment(id)) }
        #expect(Set(ids.map(DeliveryKey.segment)).count == ids.count)
        #expect(DeliveryKey.segment("a/b") != DeliveryKey.segment("a/c"))
    }

    @Test("a readable id and the hashed form of another id never collide")
    func readableNeverStartsWithTilde() {
        let hashed = DeliveryKey.segment("a/b")
        // Feeding the hashed form back in as an id hashes it again rather than keeping it.
        #expect(DeliveryKey.segment(hashed) != hashed)
    }

    @Test("hostile envelope ids give a key whose id has exactly three safe segments")
    func hostileEnvelope() {
        let envelope = Self.envelope(event: "../evil", projectId: "../../etc", uploadId: "a/b\u{0}")
        let key = DeliveryKey(envelope: envelope, body: [], testNonce: "n")
        let parts = key.id.split(separator: "/", omittingEmptySubsequences: false)
        #expect(parts.count == 3)
        for part in parts {
            #expect(part.hasPrefix("~"))
            #expect(part.utf8.count == 65)
        }
    }
}
