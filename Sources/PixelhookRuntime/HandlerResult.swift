import PixelhookCore

/// How one handler run ended, as stored in `EVENT.result` and shown by `pixelhook builds`.
public struct HandlerResult: Sendable, Equatable {
    public enum State: String, Sendable {
        /// Exit 0, or no handler file for this event.
        case done
        /// Exit 75 (EX_TEMPFAIL): kept for `pixelhook retry`.
        case retry
        /// Any other exit, a signal, or a handler file that cannot be run.
        case failed
        /// Stopped with its process group after `PIXELHOOK_HANDLER_TIMEOUT`.
        case timeout
    }

    public var state: State
    public var handler: String?
    public var exitCode: Int?
    public var signal: Int?
    public var startedAt: String
    public var durationMs: Int
    public var outputBytes: Int
    public var outputTruncated: Bool
    public var detail: String?

    public var json: JSONObject {
        JSONObject()
            .string("state", state.rawValue).string("handler", handler)
            .int("exitCode", exitCode).int("signal", signal)
            .string("startedAt", startedAt).int("durationMs", durationMs)
            .int("outputBytes", outputBytes).bool("outputTruncated", outputTruncated)
            .string("detail", detail)
    }

    /// The exit status `pixelhook handle` reports for this result (SPEC "Modes").
    public var handleExitCode: Int32 {
        switch state {
        case .done: 0
        case .retry: 75
        case .failed, .timeout: 1
        }
    }

    /// Reads back the `state` of a stored result line, or nil if it is unreadable.
    public static func state(ofStored text: String) -> State? {
        for state in [State.done, .retry, .failed, .timeout] where text.contains("\"state\":\"\(state.rawValue)\"") {
            return state
        }
        return nil
    }
}
