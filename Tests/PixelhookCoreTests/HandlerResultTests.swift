import Testing
@testable import PixelhookCore

@Suite("HandlerResult")
struct HandlerResultTests {
    static let failed = HandlerResult(
        state: .failed, handler: "/h/default", exitCode: 3, signal: nil, startedAt: "2026-03-29T14:30:00.000Z",
        durationMs: 12, outputBytes: 70_000, outputTruncated: true, detail: "exit 3 \"quoted\"")

    @Test("what is stored is read back whole", arguments: [
        failed,
        HandlerResult(state: .done, handler: nil, exitCode: nil, signal: nil, startedAt: "t", durationMs: 0,
                      outputBytes: 0, outputTruncated: false, detail: nil),
        HandlerResult(state: .timeout, handler: "/h/x", exitCode: nil, signal: 9, startedAt: "t", durationMs: 600_000,
                      outputBytes: 1, outputTruncated: false, detail: "stopped after 600 s"),
    ])
    func roundTrip(result: HandlerResult) {
        let line = Array((result.json.description + "\n").utf8)
        #expect(HandlerResult(stored: line) == result)
        #expect(HandlerResult.state(ofStored: result.json.description) == result.state)
    }

    @Test("a torn, foreign or stateless file is no result", arguments: [
        "", "{", "{\"state\":\"done\"", "[]", "{\"state\":\"finished\"}", "{\"exitCode\":0}", "{\"state\":1}",
        // a detail that only mentions a state is not one
        "{\"detail\":\"\\\"state\\\":\\\"done\\\"\"}",
    ])
    func unreadable(text: String) {
        #expect(HandlerResult(stored: Array(text.utf8)) == nil)
        #expect(HandlerResult.state(ofStored: text) == nil)
    }

    @Test("summary says what an operator needs", arguments: [
        (HandlerResult.State.done, 0, nil, nil, "done"),
        (.retry, 75, nil, "exit 75: asked for a retry", "retry (exit 75)"),
        (.failed, 3, nil, "exit 3", "failed (exit 3)"),
        (.failed, nil, 9, "killed by signal 9", "failed (killed by signal 9)"),
        (.failed, nil, nil, "/h/x is not executable (chmod +x)", "failed (/h/x is not executable (chmod +x))"),
        (.timeout, nil, 15, "stopped after 5 s", "timeout (stopped after 5 s)"),
    ] as [(HandlerResult.State, Int?, Int?, String?, String)])
    func summary(state: HandlerResult.State, exitCode: Int?, signal: Int?, detail: String?, text: String) {
        let result = HandlerResult(state: state, handler: nil, exitCode: exitCode, signal: signal, startedAt: "t",
                                   durationMs: 0, outputBytes: 0, outputTruncated: false, detail: detail)
        #expect(result.summary == text)
    }
}
