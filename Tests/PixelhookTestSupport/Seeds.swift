import Foundation

/// The sender's four documented example payloads, read from `examples/events/` (the files the
/// README's `curl --data-binary @…` sends), byte for byte, so that no test spells them again.
public enum Seeds {
    /// The events that have an example, in the order the sender documents them.
    public static let events = ["build.approved", "build.rejected", "build.uploaded", "webhook.test"]

    /// `examples/events/EVENT.json` as text; a missing file stops the test run with its path.
    public static func text(_ event: String) -> String {
        let path = BuiltBinary.packageRoot + "/examples/events/\(event).json"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { fatalError("no seed payload at \(path)") }
        return text
    }

    /// `examples/events/EVENT.json` as a request body.
    public static func payload(_ event: String) -> Data { Data(text(event).utf8) }

    /// Every example, in `events` order.
    public static var all: [(event: String, body: String)] { events.map { ($0, text($0)) } }
}
