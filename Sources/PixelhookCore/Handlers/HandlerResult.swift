/// How one handler run ended, as stored in `EVENT.result` and shown by `pixelhook builds`.
public struct HandlerResult: Sendable, Equatable {
    public enum State: String, Sendable, CaseIterable {
        /// Exit 0, or no handler file for this event.
        case done
        /// Exit 75 (EX_TEMPFAIL): kept for `pixelhook retry`.
        case retry
        /// Any other exit, a signal, or a handler file that cannot be run.
        case failed
        /// Stopped with its process group after `PIXELHOOK_HANDLER_TIMEOUT`.
        case timeout
        /// Failed, timed out or exited 75 on its `PIXELHOOK_RETRY_LIMIT`th attempt: `retry`
        /// runs it no more (`replay` still does). Shown as "gave up".
        case gaveUp = "gave_up"

        /// Nothing more for `retry` to do: done, or given up.
        public var isSettled: Bool { self == .done || self == .gaveUp }

        /// The state as a person reads it: `gave up`, not `gave_up`.
        public var text: String { self == .gaveUp ? "gave up" : rawValue }
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
    /// How many times the delivery's handler has run, this run included (SPEC "Retries").
    public var attempts: Int

    public init(
        state: State, handler: String?, exitCode: Int?, signal: Int?, startedAt: String, durationMs: Int,
        outputBytes: Int, outputTruncated: Bool, detail: String?, attempts: Int = 1
    ) {
        self.attempts = attempts
        self.state = state
        self.handler = handler
        self.exitCode = exitCode
        self.signal = signal
        self.startedAt = startedAt
        self.durationMs = durationMs
        self.outputBytes = outputBytes
        self.outputTruncated = outputTruncated
        self.detail = detail
    }

    /// Reads back a stored `EVENT.result` line (the `json` form); nil when it is not one (a
    /// torn or foreign file), which readers treat like no result at all.
    public init?(stored bytes: [UInt8]) {
        guard let members = JSONScanner.scalarMembers(bytes),
              case .string(let stateText)? = members["state"], let state = State(rawValue: stateText)
        else { return nil }
        func string(_ name: String) -> String? {
            if case .string(let text)? = members[name] { return text }
            return nil
        }
        func integer(_ name: String) -> Int? {
            if case .integer(let value)? = members[name] { return value }
            return nil
        }
        self.init(
            state: state, handler: string("handler"), exitCode: integer("exitCode"), signal: integer("signal"),
            startedAt: string("startedAt") ?? "", durationMs: integer("durationMs") ?? 0,
            outputBytes: integer("outputBytes") ?? 0,
            outputTruncated: members["outputTruncated"] == .bool(true), detail: string("detail"),
            attempts: max(1, integer("attempts") ?? 1))  // a result written before attempts were counted: one
    }

    /// The state with what an operator needs next to it: `done`, `failed (exit 3)`,
    /// `failed (killed by signal 9)`, `timeout (stopped after 600 s)`, `retry (exit 75)`,
    /// `gave up after 10 attempts (exit 3)`; a later attempt says which (`failed (exit 3),
    /// attempt 2`).
    public var summary: String {
        guard attempts > 1, state != .gaveUp, state != .done else { return stateSummary }
        return "\(stateSummary), attempt \(attempts)"
    }

    private var stateSummary: String {
        switch state {
        case .gaveUp: return "gave up after \(attempts) attempt\(attempts == 1 ? "" : "s")" + (detail.map { " (\($0))" } ?? "")
        case .done: return "done"
        case .retry: return "retry (exit 75)"
        case .timeout: return detail.map { "timeout (\($0))" } ?? "timeout"
        case .failed:
            if let exitCode { return "failed (exit \(exitCode))" }
            if let signal { return "failed (killed by signal \(signal))" }
            return detail.map { "failed (\($0))" } ?? "failed"
        }
    }

    public var json: JSONObject {
        JSONObject()
            .string("state", state.rawValue).string("handler", handler)
            .int("exitCode", exitCode).int("signal", signal)
            .string("startedAt", startedAt).int("durationMs", durationMs)
            .int("outputBytes", outputBytes).bool("outputTruncated", outputTruncated)
            .string("detail", detail).int("attempts", attempts)
    }

    /// When this attempt ended, in milliseconds since the epoch; nil if `startedAt` is unreadable.
    public var endedAtMilliseconds: Int? {
        EpochTime.milliseconds(iso8601: startedAt).map { $0 + durationMs }
    }

    /// This run's result as the `attempts`th run of its delivery: a result `retry` would run
    /// again becomes `gave up` once `limit` attempts are reached (0: never).
    public func counted(asAttempt attempts: Int, limit: Int) -> HandlerResult {
        var counted = self
        counted.attempts = attempts
        if !state.isSettled, limit > 0, attempts >= limit { counted.state = .gaveUp }
        return counted
    }

    /// The exit status `pixelhook handle` reports for this result (SPEC "Modes").
    public var handleExitStatus: ExitStatus {
        switch state {
        case .done: .success
        case .retry: .retry
        case .failed, .timeout, .gaveUp: .failed
        }
    }

    /// Reads back the `state` of a stored result line, or nil if it is unreadable.
    public static func state(ofStored text: String) -> State? {
        HandlerResult(stored: Array(text.utf8))?.state
    }
}
