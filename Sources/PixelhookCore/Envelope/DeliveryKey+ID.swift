extension DeliveryKey {
    /// The key of a `PROJECT/BUILD/EVENT` id as `builds` prints it and handlers get it in
    /// `PIXELHOOK_DELIVERY`; nil for anything `init(envelope:body:testNonce:)` cannot produce.
    /// Strict, because the id becomes a path: each part is a segment (`isSegment`), the event
    /// part a segment or two joined by `~` (a test's nonce, a null uploadId's body hash), so
    /// `..`, `/`, NUL or an empty part are never accepted.
    public init?(id: String) {
        let parts = id.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3, DeliveryKey.isSegment(parts[0]), DeliveryKey.isSegment(parts[1]),
              DeliveryKey.isEventSegment(parts[2])
        else { return nil }
        self.init(project: String(parts[0]), build: String(parts[1]), event: String(parts[2]))
    }

    static func isEventSegment(_ text: Substring) -> Bool {
        guard let first = text.first else { return false }
        let afterFirst = text.index(after: text.startIndex)
        if let tilde = text[afterFirst...].firstIndex(of: "~"), first != "~" || text[afterFirst..<tilde].count == 64 {
            return isSegment(text[..<tilde]) && isSegment(text[text.index(after: tilde)...])
        }
        return isSegment(text)
    }
}
