/// A payload shaped like the sender's: the seven envelope fields in its documented order,
/// compact, written as raw JSON text (not through the code under test, so that a bug there cannot
/// hide here). Each test target keeps its own defaults and calls this for the text.
public enum SenderPayload {
    /// `nil` optional fields are written as JSON `null`; `padding` adds a `"padding"` member of
    /// that many `x`s (a body of a chosen size).
    public static func json(event: String, projectId: String, uploadId: String?, fileUrl: String? = nil,
                            status: String, objection: String? = nil, timestamp: String, padding: Int = 0) -> String {
        var members = [
            ("event", quoted(event)), ("projectId", quoted(projectId)), ("uploadId", uploadId.map(quoted) ?? "null"),
            ("fileUrl", fileUrl.map(quoted) ?? "null"), ("status", quoted(status)),
            ("objection", objection.map(quoted) ?? "null"), ("timestamp", quoted(timestamp)),
        ]
        if padding > 0 { members.append(("padding", quoted(String(repeating: "x", count: padding)))) }
        return "{" + members.map { "\(quoted($0.0)):\($0.1)" }.joined(separator: ",") + "}"
    }

    /// A JSON string literal for ASCII test values (only `"` and `\` need escaping there).
    public static func quoted(_ text: String) -> String {
        var out = "\""
        for character in text {
            switch character {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            default: out.append(character)
            }
        }
        return out + "\""
    }
}
