/// A valid, new-looking event about to be stored: the parsed envelope, the exact raw body
/// (handlers get it byte for byte) and its place in the spool.
public struct Delivery: Sendable, Equatable {
    public let envelope: Envelope
    public let body: [UInt8]
    public let key: DeliveryKey

    public init(envelope: Envelope, body: [UInt8], key: DeliveryKey) {
        self.envelope = envelope
        self.body = body
        self.key = key
    }
}
