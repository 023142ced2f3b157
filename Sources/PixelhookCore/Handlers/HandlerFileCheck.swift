/// What `pixelhook check` says about the files in `PIXELHOOK_HANDLERS`, judged from a listing
/// so that the rules are testable without a disk.
///
/// - A file named after a known event or `default` is run: it must be a regular, executable
///   file (a directory or a non-executable file fails its deliveries).
/// - A file named like an event but not one (`build.aproved`), or an executable file of any
///   other name, is never run: most likely a typo.
/// - Anything else (`handlers.env`, `README`, dotfiles) is a support file and left alone.
public enum HandlerFileCheck {
    public enum Kind: Sendable, Equatable {
        case regular
        case directory
        /// Anything else, named for the message: "a socket", "a broken symbolic link".
        case other(String)
    }

    public struct File: Sendable, Equatable {
        public var name: String
        public var kind: Kind
        /// Executable by the user running the check (`access(X_OK)`).
        public var isExecutable: Bool

        public init(name: String, kind: Kind, isExecutable: Bool) {
            self.name = name
            self.kind = kind
            self.isExecutable = isExecutable
        }
    }

    /// The handler run for an event that has no file of its own.
    public static let defaultName = "default"

    /// The names pixelhook runs: every known event and `default`.
    public static let handlerNames: Set<String> = Event.known.union([defaultName])

    /// One line per problem, in name order; empty when every handler can be run.
    public static func problems(_ files: [File], directory: String) -> [String] {
        files.sorted { $0.name < $1.name }.compactMap { problem($0, path: "\(directory)/\($0.name)") }
    }

    /// Why a handler file that exists cannot be run, and the command that fixes it; nil when
    /// it can. The one rule for `check` and for the runner, which marks such a delivery failed:
    /// a broken symbolic link (target not deployed, volume not mounted) is a file that exists.
    public static func unrunnable(_ file: File, path: String) -> (reason: String, fix: String?)? {
        switch file.kind {
        case .directory: return ("\(path) is a directory, not a program", nil)
        case .other(let kind): return ("\(path) is \(kind), not a program", nil)
        case .regular where !file.isExecutable: return ("\(path) is not executable", "chmod +x \(path)")
        case .regular: return nil
        }
    }

    static func problem(_ file: File, path: String) -> String? {
        if file.name.hasPrefix(".") { return nil }
        if handlerNames.contains(file.name) {
            return unrunnable(file, path: path).map { "\($0.reason): its deliveries fail\($0.fix.map { " (\($0))" } ?? "")" }
        }
        let suggestion = suggestion(for: file.name)
        let looksLikeHandler = suggestion != nil || file.name.hasPrefix("build.") || file.name.hasPrefix("webhook.")
            || (file.kind == .regular && file.isExecutable)
        guard looksLikeHandler else { return nil }
        let hint = suggestion.map { "did you mean \($0)?" } ?? "handlers are named after an event, or default"
        return "\(path) is never run: \(file.name) is not an event pixelhook knows (\(hint))"
    }

    /// The handler name `name` is most likely a typo of (at most 2 edits, ignoring case, or
    /// the stage without its `build.` prefix); nil when none is that close.
    public static func suggestion(for name: String) -> String? {
        let lowered = Array(name.lowercased())
        var best: (distance: Int, name: String)?
        for candidate in handlerNames.sorted() {
            let target = Array(candidate)
            let distance = min(editDistance(lowered, target), editDistance(Array("build.") + lowered, target))
            if distance <= 2, distance < (best?.distance ?? .max) { best = (distance, candidate) }
        }
        return best?.name
    }

    /// Levenshtein distance: insertions, deletions and substitutions.
    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        var previous = Array(0...b.count)
        for (i, left) in a.enumerated() {
            var current = [i + 1] + Array(repeating: 0, count: b.count)
            for (j, right) in b.enumerated() {
                current[j + 1] = min(previous[j + 1] + 1, current[j] + 1, previous[j] + (left == right ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
