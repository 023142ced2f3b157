/// The optional config file (`PIXELHOOK_CONFIG` or `--config`): the same keys as the
/// environment, one `KEY=VALUE` a line, `#` comments, optional single or double quotes.
///
/// Unknown `PIXELHOOK_` keys are errors here (a typo in a file should not silently fall back to
/// a default); the environment wins over the file.
public enum ConfigFile {
    public static func parse(_ text: String) throws(SettingsError) -> [String: String] {
        var values: [String: String] = [:]
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
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
            var value = String(line[line.index(after: equals)...]).trimmingWhitespace()
            if value.count >= 2, let quote = value.first, quote == "\"" || quote == "'", value.last == quote {
                value = String(value.dropFirst().dropLast())
            }
            values[key] = value
        }
        return values
    }
}
