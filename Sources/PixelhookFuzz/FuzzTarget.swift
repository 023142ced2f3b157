import PixelhookCore

/// The request core under the fuzzer: each input runs one entry point of `PixelhookCore` and
/// checks what must hold whatever the input (see `FuzzInput` for the input's shape).
///
/// A crash, a trap (overflow, index out of range) or a violated invariant stops the process:
/// libFuzzer then saves the input, and the corpus replay in `FuzzCorpusTests` fails on it.
///
/// ```swift
/// FuzzTarget.run(Array(#"B{"event":"webhook.test"}"#.utf8))
/// ```
public enum FuzzTarget {
    public static func run(_ data: [UInt8]) {
        guard let (entry, rest) = FuzzInput.split(data) else { return }
        switch entry {
        case .body: body(Array(rest))
        case .config: config(String(decoding: rest, as: UTF8.self))
        case .settings: settings(FuzzInput.variables(rest).variables)
        case .request: request(FuzzInput.variables(rest))
        case .json: json(Array(rest))
        case .fastCGI: fastCGI(Array(rest))
        }
    }

    /// The settings the `B` entry triages bodies under: the seeds' project, one filtered.
    static let fixedSettings: [Settings] = {
        var plain = Settings()
        plain.projectIDs = ["664f1a2b3c4d5e6f7a8b9c0d", "p"]
        var filtered = plain
        filtered.events = ["build.approved", "webhook.test"]
        return [plain, filtered]
    }()

    static let testNonce = "1774787400000000000-4242"
}
