import PixelhookRuntime

extension BuildQueue.Run {
    /// What `retry` and `replay` print for a handler they ran:
    /// `p1/u1/build.approved: done (was failed (exit 3))`.
    var line: String {
        "\(delivery.id): \(result.summary) (was \(previous?.summary ?? "never finished"))"
    }
}
