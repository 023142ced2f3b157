/// What the spool holds for one build, as `pixelhook builds` needs it: read from disk by
/// PixelhookRuntime (`Spool.storedBuilds()`), judged here by `BuildReport`, so the judgement
/// is testable without a disk.
public struct StoredBuild: Sendable, Equatable {
    /// One stored delivery: `EVENT.json` and the result beside it.
    public struct Entry: Sendable, Equatable {
        /// The payload's file name without `.json`: the EVENT segment (`build.approved`,
        /// `webhook.test~NONCE`, `build.uploaded~SHA256` when uploadId was null).
        public var name: String
        /// The raw body as received.
        public var body: [UInt8]
        /// When pixelhook stored it (the payload file's mtime), milliseconds since the epoch.
        public var receivedAt: Int
        /// The handler's result; nil while none is written (queued, running, or its runner died).
        public var result: HandlerResult?
        /// The start of the handler's captured output (`EVENT.output`), for the status page;
        /// nil when not read (`pixelhook builds` does not) or there is none.
        public var outputHead: [UInt8]?
        /// Cluster mode: which hosts stored it and which ran it; nil for a one-host spool.
        public var hosts: DeliveryHosts?

        public init(name: String, body: [UInt8], receivedAt: Int, result: HandlerResult?, outputHead: [UInt8]? = nil,
                    hosts: DeliveryHosts? = nil) {
            self.name = name
            self.body = body
            self.receivedAt = receivedAt
            self.result = result
            self.outputHead = outputHead
            self.hosts = hosts
        }
    }

    public var id: BuildID
    /// Someone holds the build's `.lock`: its handlers are running now.
    public var isLocked: Bool
    /// In arrival order.
    public var entries: [Entry]

    public init(id: BuildID, isLocked: Bool, entries: [Entry]) {
        self.id = id
        self.isLocked = isLocked
        self.entries = entries
    }
}
