/// How one fuzzer input is read: the first byte picks the entry point, the rest is its input.
///
/// Seeds stay readable: `B` + a request body, `C` + config-file text, `S` + settings variables,
/// `R` + CGI meta-variables, a blank line and a body, `J` + any JSON, `F` + a FastCGI record
/// stream. Any other first byte picks an entry by its value, so every input the fuzzer makes
/// runs some entry.
public enum FuzzInput {
    public enum Entry: CaseIterable, Sendable {
        case body, config, settings, request, json, fastCGI
    }

    public static func split(_ data: [UInt8]) -> (entry: Entry, rest: ArraySlice<UInt8>)? {
        guard let first = data.first else { return nil }
        let entry: Entry = switch first {
        case UInt8(ascii: "B"): .body
        case UInt8(ascii: "C"): .config
        case UInt8(ascii: "S"): .settings
        case UInt8(ascii: "R"): .request
        case UInt8(ascii: "J"): .json
        case UInt8(ascii: "F"): .fastCGI
        default: Entry.allCases[Int(first) % Entry.allCases.count]
        }
        return (entry, data.dropFirst())
    }

    /// `KEY=VALUE` entries separated by LF or NUL, up to the first empty entry (a blank line);
    /// what follows it is returned as `rest`. Entries without `=` are skipped, as in `environ`;
    /// invalid UTF-8 is repaired, as `String(cString:)` does for the real environment.
    public static func variables(_ bytes: ArraySlice<UInt8>) -> (variables: [String: String], rest: ArraySlice<UInt8>) {
        var variables: [String: String] = [:]
        var start = bytes.startIndex
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            guard byte == 0x0A || byte == 0x00 else {
                index += 1
                continue
            }
            if index == start { return (variables, bytes[(index + 1)...]) }
            add(bytes[start..<index], to: &variables)
            index += 1
            start = index
        }
        if start < bytes.endIndex { add(bytes[start...], to: &variables) }
        return (variables, bytes[bytes.endIndex...])
    }

    private static func add(_ entry: ArraySlice<UInt8>, to variables: inout [String: String]) {
        guard let equals = entry.firstIndex(of: UInt8(ascii: "=")) else { return }
        let key = String(decoding: entry[..<equals], as: UTF8.self)
        variables[key] = String(decoding: entry[(equals + 1)...], as: UTF8.self)
    }
}
