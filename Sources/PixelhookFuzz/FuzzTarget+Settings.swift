import PixelhookCore

extension FuzzTarget {
    /// A config file: every key it yields is a known setting, quoting each value back gives the
    /// same values, and the values then parse (or fail) as settings do.
    static func config(_ text: String) {
        let values: [String: String]
        do {
            values = try ConfigFile.parse(text)
        } catch {
            Invariant.check(error.message.hasPrefix("config line "), "config error without its line: \(error.message)")
            return
        }
        for key in values.keys {
            Invariant.check(Settings.Key.all.contains(key) && key != Settings.Key.config, "config yielded key \(key)")
        }
        if let lines = quotedLines(values) {
            let again = try? ConfigFile.parse(lines.joined(separator: "\n"))
            Invariant.check(again.map { sameBytes($0, values) } ?? false, "config values quoted back read differently")
        }
        settings(values)
    }

    /// `KEY="VALUE"` lines for `values`; nil when a value holds a line break, or both quote marks.
    static func quotedLines(_ values: [String: String]) -> [String]? {
        var lines: [String] = []
        for (key, value) in values.sorted(by: { $0.key < $1.key }) {
            guard !value.contains(where: \.isNewline) else { return nil }
            // Scalars, as `ConfigFile` reads quotes: `'` + a combining mark is one `Character`.
            let quote: Unicode.Scalar = value.unicodeScalars.contains("\"") ? "'" : "\""
            guard !value.unicodeScalars.contains(quote) else { return nil }
            lines.append("\(key)=\(quote)\(value)\(quote)")
        }
        return lines
    }

    /// Parsed settings are in range and survive `Settings.variables` (what pixelhook hands to
    /// the processes it starts) unchanged.
    static func settings(_ variables: [String: String]) {
        let parsed: Settings
        do {
            parsed = try Settings.parse(variables)
        } catch {
            Invariant.check(error.message.hasPrefix("PIXELHOOK_"), "settings error that names no setting: \(error.message)")
            return
        }
        Invariant.check(parsed.spool.hasPrefix("/") && parsed.handlers.hasPrefix("/"), "relative directory accepted")
        Invariant.check((1...(64 << 20)).contains(parsed.maxBody) && (1...86_400).contains(parsed.handlerTimeoutSeconds)
                        && (1...256).contains(parsed.maxHandlers)
                        && (1...DurationText.maximumSeconds).contains(parsed.stalledAfterSeconds), "number out of range")
        for list in [parsed.projectIDs, parsed.events].compactMap({ $0 }) {
            Invariant.check(!list.isEmpty, "empty list kept instead of unset")
            for item in list {
                Invariant.check(!item.isEmpty && !item.utf8.contains(UInt8(ascii: ",")), "list item \(item.debugDescription)")
            }
        }
        Invariant.check((parsed.configurationProblem == nil) == (parsed.projectIDs != nil), "configurationProblem disagrees")
        if let first = Settings.firstProjectID(in: variables) {
            Invariant.check(parsed.projectIDs?.contains { Invariant.sameBytes($0, first) } ?? false,
                            "first project \(first.debugDescription) is not one of the projects")
        }
        let written = parsed.variables
        let again = Result { () throws(SettingsError) -> Settings in try Settings.parse(written) }
        guard case .success(let reread) = again else {
            Invariant.check(false, "settings written back do not parse: \(again)")
            return
        }
        Invariant.check(sameBytes(reread, parsed), "settings written back read differently: \(written)")
    }

    static func sameBytes(_ lhs: [String: String], _ rhs: [String: String]) -> Bool {
        lhs.count == rhs.count && lhs.allSatisfy { key, value in Invariant.sameBytes(rhs[key], value) }
    }

    static func sameBytes(_ lhs: Settings, _ rhs: Settings) -> Bool {
        func bytes(_ set: Set<String>?) -> Set<[UInt8]>? { set.map { Set($0.map { Array($0.utf8) }) } }
        return lhs == rhs && bytes(lhs.projectIDs) == bytes(rhs.projectIDs) && bytes(lhs.events) == bytes(rhs.events)
            && Invariant.sameBytes(lhs.token, rhs.token) && Invariant.sameBytes(lhs.spool, rhs.spool)
            && Invariant.sameBytes(lhs.handlers, rhs.handlers)
    }
}
