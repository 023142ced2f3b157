import COpenSSLHash

/// Where one delivery lives in the spool, and the dedup key it stands for.
///
/// The key is (projectId, uploadId, event), as Streampixel advises. Each id becomes one path
/// segment that is safe by construction: short ids of `[A-Za-z0-9._-]` starting with a letter or
/// digit are kept readable, anything else (`../x`, `/`, NUL, newlines, 10 kB) becomes `~` and
/// its SHA-256. The two forms cannot collide: a readable segment never starts with `~`.
public struct DeliveryKey: Sendable, Hashable {
    public let project: String
    public let build: String
    public let event: String

    /// `deliveries/PROJECT/BUILD/EVENT`: stable, and the `PIXELHOOK_DELIVERY` handlers see.
    public var id: String { "\(project)/\(build)/\(event)" }

    public init(project: String, build: String, event: String) {
        self.project = project
        self.build = build
        self.event = event
    }

    /// - Parameter testNonce: makes each `webhook.test` delivery distinct (it is never a duplicate).
    public init(envelope: Envelope, body: [UInt8], testNonce: String) {
        project = DeliveryKey.segment(envelope.projectId)
        let eventName = DeliveryKey.segment(envelope.event)
        if envelope.event == Event.test {
            build = envelope.uploadId.map(DeliveryKey.segment) ?? DeliveryKey.noUpload
            event = eventName + "~" + DeliveryKey.segment(testNonce)
        } else if let uploadId = envelope.uploadId {
            build = DeliveryKey.segment(uploadId)
            event = eventName
        } else {
            // No upload yet: the whole body is the identity of the event.
            build = DeliveryKey.noUpload
            event = eventName + "~" + DeliveryKey.sha256Hex(body)
        }
    }

    /// The build segment for events that carry `uploadId: null`.
    public static let noUpload = "~none"

    public static func segment(_ id: String) -> String {
        isReadable(id) ? id : "~" + sha256Hex(Array(id.utf8))
    }

    /// Whether `text` is a build or project segment `segment(_:)` produces (or `noUpload`):
    /// the only names read back from the spool's lists.
    public static func isSegment(_ text: some StringProtocol) -> Bool {
        let id = String(text)
        if id == noUpload || isReadable(id) { return true }
        let hash = id.utf8.dropFirst()
        return id.utf8.first == UInt8(ascii: "~") && hash.count == 64
            && hash.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0) }
    }

    static func isReadable(_ id: String) -> Bool {
        let bytes = Array(id.utf8)
        guard let first = bytes.first, bytes.count <= 64, isAlphanumeric(first) else { return false }
        return bytes.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
            || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    public static func sha256Hex(_ bytes: [UInt8]) -> String {
        var digest = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
        // SHA256_Init/Update/Final, not the one-call SHA256(): in OpenSSL 3 that one goes
        // through EVP and drags the provider machinery into the static binary.
        var context = SHA256_CTX()
        SHA256_Init(&context)
        bytes.withUnsafeBytes { _ = SHA256_Update(&context, $0.baseAddress, $0.count) }
        digest.withUnsafeMutableBufferPointer { _ = SHA256_Final($0.baseAddress, &context) }
        let table = Array("0123456789abcdef".utf8)
        var hex: [UInt8] = []
        hex.reserveCapacity(64)
        for byte in digest {
            hex.append(table[Int(byte >> 4)])
            hex.append(table[Int(byte & 0x0F)])
        }
        return String(decoding: hex, as: UTF8.self)
    }
}
