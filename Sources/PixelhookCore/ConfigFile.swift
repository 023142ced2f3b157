/// The optional config file (`PIXELHOOK_CONFIG` or `--config`): the same keys as the
/// environment, one `KEY=VALUE` a line (LF or CRLF), `#` comments (whole lines, or after a
/// value following a space), optional single or double quotes around a value.
///
/// Unknown `PIXELHOOK_` keys are errors here (a typo in a file should not silently fall back to
/// a default); the environment wins over the file.
public enum ConfigFile {
    public static func parse(_ text: String) throws(SettingsError) -> [String: String] {
        var values: [String: String] = [:]
        for (index, rawLine) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = String(rawLine).trimmingWhitespace()
            if line.isEmpty || line.hasPrefix("#") { continue }
            let lineNumber = index + 1
            guard let equals = line.firstIndex(of: "=") else {
                throw SettingsError("config line \(lineNumber): expected KEY=VALUE")
            }
            var key = String(line[..<equals]).trimmingWhitespace()
            if key.hasPrefix("export ") { key = String(key.dropFirst(7)).trimmingWhitespace() }
            guard Settings.Key.all.contains(key), key != Settings.Key.config else {
                throw SettingsError("config line \(lineNumber): unknown setting \(key)")
            }
            values[key] = try value(String(line[line.index(after: equals)...]).trimmingWhitespace(), line: lineNumber)
        }
        return values
    }

    /// `"quoted"` or `'quoted'` (then only a comment may follow), or bare up to ` #`.
    static func value(_ text: String, line: Int) throws(SettingsError) -> String {
        guard let quote = text.unicodeScalars.first, quote == "\"" || quote == "'" else {
            let scalars = Array(text.unicodeScalars)
            for index in scalars.indices.dropFirst() where scalars[index] == "#" && (scalars[index - 1] == " " || scalars[index - 1] == "\t") {
                var kept = String.UnicodeScalarView()
                kept.append(contentsOf: scalars[..<index])
                return String(kept).trimmingWhitespace()
            }
            return text
        }
        // Scalars, not characters: a quote followed by a combining mark is one `Character`.
        let rest = text.unicodeScalars.dropFirst()
        guard let close = rest.firstIndex(of: quote) else {
            throw SettingsError("config line \(line): missing closing \(quote)")
        }
        let after = String(String.UnicodeScalarView(rest[rest.index(after: close)...])).trimmingWhitespace()
        guard after.isEmpty || after.unicodeScalars.first == "#" else {
            throw SettingsError("config line \(line): unexpected text after the closing \(quote)")
        }
        return String(String.UnicodeScalarView(rest[..<close]))
    }
}
