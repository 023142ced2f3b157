import Foundation
import PixelhookCore
import PixelhookTestSupport
@testable import PixelhookRuntime

/// A spool and handlers directory in a `TemporaryDirectory`, with the settings that point at
/// them.
final class ScratchSpool {
    private let directory: TemporaryDirectory
    var root: String { directory.path }
    var spool: String { root + "/spool" }
    var handlers: String { root + "/handlers" }

    init() throws {
        directory = try TemporaryDirectory(prefix: "pixelhook-runtime")
        try FileManager.default.createDirectory(atPath: root + "/handlers", withIntermediateDirectories: true)
    }

    func settings(timeout: Int = 30, maxHandlers: Int = 4) -> Settings {
        var settings = Settings()
        settings.spool = spool
        settings.handlers = handlers
        settings.projectIDs = ["p1"]
        settings.handlerTimeoutSeconds = timeout
        settings.maxHandlers = maxHandlers
        return settings
    }

    /// Writes an executable `/bin/sh` handler.
    func handler(_ name: String, _ script: String) throws {
        try ShellScript.write(script, to: handlers + "/" + name)
    }

    func read(_ relativePath: String) -> String? {
        try? String(contentsOfFile: root + "/" + relativePath, encoding: .utf8)
    }

    func files(under relativePath: String) -> [String] {
        (FileManager.default.enumerator(atPath: root + "/" + relativePath)?.allObjects as? [String] ?? []).sorted()
    }
}

func payload(event: String = "build.approved", uploadId: String? = "u1", project: String = "p1",
             objection: String? = nil) -> [UInt8] {
    Array(SenderPayload.json(event: event, projectId: project, uploadId: uploadId, status: "x", objection: objection,
                             timestamp: "2026-03-29T14:30:00.000Z").utf8)
}

func delivery(_ body: [UInt8], nonce: String = "n1") throws -> Delivery {
    let envelope = try EnvelopeParser.parse(body)
    return Delivery(envelope: envelope, body: body, key: DeliveryKey(envelope: envelope, body: body, testNonce: nonce))
}

/// The scratch spool named through `SpoolLayout`, as the spool code names it.
extension ScratchSpool {
    /// Paths as `read` and `files(under:)` take them: relative to `root`.
    static let spoolFiles = SpoolLayout(root: "spool")
    /// Absolute paths.
    var spoolLayout: SpoolLayout { SpoolLayout(root: spool) }
}
