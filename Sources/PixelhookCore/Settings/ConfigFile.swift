/// The optional config file (`PIXELHOOK_CONFIG` or `--config`): the same keys as the
/// environment, one `KEY=VALUE` a line (LF or CRLF), `#` comments (whole lines, or after a
/// value following a space), optional single or double quotes around a value.
///
/// Unknown `PIXELHOOK_` keys are errors here (a typo in a file should not silently fall back to
/// a default); the environment wins over the file.
public enum ConfigFile {
    public static func parse(_ text: String) throws(SettingsError) -> [String: String] {
        var values: [String: String] = [:]
        for (lineNumber, rawLine) in settingLines(text) {
            let line = String(rawLine).trimmingWhitespace()
            if line.isEmpty || line.hasPrefix("#") { continue }
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

    /// The lines that may hold a setting, numbered from 1; blank and comment lines are left out
    /// before they become strings. Every CGI start reads the config file (the packaged one is
    /// mostly comments), and splitting it by `Character`s cost 0.77 M instructions for 30 lines,
    /// twice a whole CGI start: so the bytes are split at LF, CRLF and CR, the line breaks it
    /// has in practice; a file with any other (VT, FF, NEL, U+2028, U+2029) takes the slow path.
    static func settingLines(_ text: String) -> [(number: Int, text: Substring)] {
        let utf8 = text.utf8
        let exotic = utf8.contains { $0 == 0x0B || $0 == 0x0C || $0 == 0x85 || $0 == 0xA8 || $0 == 0xA9 }
        guard !exotic else {
            return text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
                .enumerated().map { (number: $0.offset + 1, text: $0.element) }
                .filter { let line = String($0.text).trimmingWhitespace(); return !line.isEmpty && !line.hasPrefix("#") }
        }
        var lines: [(number: Int, text: Substring)] = []
        var number = 1
        var start = utf8.startIndex
        var index = start
        func keep(_ end: String.Index) {
            // Comment or blank: first byte that is not a space or tab is `#`, or there is none.
            let first = utf8[start..<end].first { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") }
            if let first, first != UInt8(ascii: "#") { lines.append((number, text[start..<end])) }
        }
        while index < utf8.endIndex {
            let byte = utf8[index]
            guard byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") else {
                index = utf8.index(after: index)
                continue
            }
            keep(index)
            var next = utf8.index(after: index)
            if byte == UInt8(ascii: "\r"), next < utf8.endIndex, utf8[next] == UInt8(ascii: "\n") { next = utf8.index(after: next) }
            number += 1
            start = next
            index = next
        }
        keep(utf8.endIndex)
        return lines
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
