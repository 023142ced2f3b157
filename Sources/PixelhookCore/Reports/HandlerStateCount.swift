/// `pixelhook_handler_results{state}`: how many deliveries are in each handler state.
public struct HandlerStateCount: Sendable, Equatable {
    /// The label values, in the order they are exposed. Every one is always exposed (0 when
    /// none), so an alert on `gave_up` has a series before the first delivery gives up.
    public enum State: String, Sendable, CaseIterable {
        case done, failed, retry, pending, running
        case gaveUp = "gave_up"
    }

    public private(set) var counts: [State: Int] = [:]

    public init() {}

    public subscript(state: State) -> Int {
        get { counts[state] ?? 0 }
        set { counts[state] = newValue }
    }

    /// The one place a stored result becomes a metrics state: a new `HandlerResult.State` is
    /// mapped here. `running`: the delivery's build is
    /// locked and this is the first of its deliveries not done, so its handler runs now.
    public static func state(of result: HandlerResult?, running: Bool) -> State {
        if running { return .running }
        guard let result else { return .pending }
        switch result.state {
        case .done: return .done
        case .retry: return .retry
        case .failed, .timeout: return .failed
        case .gaveUp: return .gaveUp
        }
    }

    public mutating func add(_ result: HandlerResult?, running: Bool) {
        self[HandlerStateCount.state(of: result, running: running)] += 1
    }
}
