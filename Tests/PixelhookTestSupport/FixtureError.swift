/// A fixture could not set up, run or read what a test needs; the message says what and why.
public struct FixtureError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
