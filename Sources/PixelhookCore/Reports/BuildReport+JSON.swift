/// `pixelhook builds --json`: one JSON document, its field names and types documented in the
/// README ("Commands"). Fields are only ever added, never renamed or retyped.
extension BuildReport {
    public static func json(_ rows: [BuildReport]) -> JSONObject {
        JSONObject().objects("builds", rows.map(\.json))
    }

    public var json: JSONObject {
        JSONObject()
            .string("projectId", projectId)
            .string("uploadId", uploadId)
            .string("outcome", outcome.rawValue)
            .string("objection", objection)
            .bool("running", isRunning)
            .string("firstReceivedAt", EpochTime.iso8601(milliseconds: firstReceivedAt))
            .string("lastReceivedAt", EpochTime.iso8601(milliseconds: lastReceivedAt))
            .objects("events", stages.map(\.json))
    }
}

extension BuildReport.Stage {
    /// In cluster mode also `cluster` (`DeliveryHosts.json`): the local shape plus one member.
    public var json: JSONObject {
        let object = JSONObject()
            .string("event", event)
            .string("delivery", delivery)
            .string("status", status)
            .string("timestamp", timestamp)
            .string("receivedAt", EpochTime.iso8601(milliseconds: receivedAt))
            .int("sincePreviousMs", sincePreviousMs)
            .object("handler", handlerJSON)
        return hosts.map { object.object("cluster", $0.json) } ?? object
    }

    /// Always the same keys; all but `state` null while pending.
    var handlerJSON: JSONObject {
        JSONObject()
            .string("state", result?.state.rawValue ?? "pending")
            .int("exitCode", result?.exitCode)
            .int("signal", result?.signal)
            .string("detail", result?.detail)
            .string("startedAt", result?.startedAt)
            .int("durationMs", result?.durationMs)
            .int("attempts", result?.attempts)
    }
}
