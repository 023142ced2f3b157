/// The 200 and health bodies of SPEC "One request"; refusals render from `ReceiveError`.
public enum Reply {
    public static func accepted(event: String, duplicate: Bool) -> HTTPResponse {
        HTTPResponse(status: 200, json: JSONObject().bool("received", true).string("event", event).bool("duplicate", duplicate))
    }

    public static func ignored(event: String, reason: String) -> HTTPResponse {
        HTTPResponse(status: 200, json: JSONObject().bool("received", true).string("event", event)
            .bool("duplicate", false).bool("ignored", true).string("reason", reason))
    }

    /// `nil` problem: 200 `{"ok":true}`; else 503 `{"ok":false,"error":problem}`.
    public static func health(problem: String?) -> HTTPResponse {
        guard let problem else { return HTTPResponse(status: 200, json: JSONObject().bool("ok", true)) }
        return HTTPResponse(status: 503, json: JSONObject().bool("ok", false).string("error", problem))
    }
}
