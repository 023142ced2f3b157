import PixelhookCore

/// The one entry point every gateway calls: one request in, one response out, plus the handler
/// work to start once the response has been sent.
///
/// Gateways translate bytes only; `Triage` decides; this type adds the spool (store, dedup,
/// request log) in between.
public struct Receiver: Sendable {
    public let settings: Result<Settings, SettingsError>
    /// Store at most one `webhook.test` per `TestThrottle` window: for what comes over HTTP,
    /// where anyone may post; `pixelhook handle` (the operator, on stdin) stores every one.
    public var throttlesTests = true

    public init(settings: Result<Settings, SettingsError>) { self.settings = settings }

    /// What to do after the response: have a runner drain the build's queue (it is listed in
    /// `SPOOL/pending/` already).
    public struct FollowUp: Sendable, Equatable {
        public let settings: Settings
        public let key: DeliveryKey
    }

    public struct Reception: Sendable {
        public let response: HTTPResponse
        public let followUp: FollowUp?
        /// Set when the operator must hear about it (configuration errors): gateways print it
        /// to stderr, which web servers keep in their error log.
        public let alarm: String?
    }

    /// Reads the body on demand: `readBody(limit)` returns at most `limit + 1` bytes (one more
    /// than allowed means too large) and throws `ReceiveError` for a truncated body.
    public func receive(
        _ head: RequestHead, readBody: (Int) throws(ReceiveError) -> [UInt8]
    ) -> Reception {
        let spool = (try? settings.get()).map { Spool(root: $0.spool) }
        var envelope: Envelope?

        func finish(_ response: HTTPResponse, _ outcome: String, followUp: FollowUp? = nil) -> Reception {
            if let spool {
                RequestLog(spool: spool).append(RequestRecord(
                    time: Clock.iso8601(), remoteAddress: head.remoteAddress, method: head.method,
                    status: response.status, envelope: envelope, outcome: outcome))
            }
            let alarm = response.status == 500 || (response.status == 503 && head.method == "POST")
                ? "pixelhook: \(response.status) \(outcome)" : nil
            return Reception(response: response, followUp: followUp, alarm: alarm)
        }
        func refuse(_ error: ReceiveError) -> Reception {
            finish(error.response, "\(error.kind.code): \(error.reason)")
        }

        let limit: Int
        switch Triage.head(head, settings: settings) {
        case .health:
            return finish(Reply.health(problem: healthProblem()), "health")
        case .refuse(let error):
            return refuse(error)
        case .readBody(let allowed):
            limit = allowed
        }
        guard case .success(let settings) = settings else { return refuse(ReceiveError(.configuration, "settings invalid")) }

        let body: [UInt8]
        do {
            body = try readBody(limit)
        } catch {
            return refuse(error)
        }
        guard body.count <= limit else { return refuse(Triage.tooLarge(settings)) }

        let delivery: Delivery
        switch Triage.body(body, settings: settings, testNonce: Clock.nonce()) {
        case .refuse(let error, let parsed):
            envelope = parsed
            return refuse(error)
        case .ignore(let parsed, let reason):
            envelope = parsed
            return finish(Reply.ignored(event: parsed.event, reason: reason), "ignored: \(reason)")
        case .deliver(let valid):
            delivery = valid
            envelope = valid.envelope
        }

        if throttlesTests, delivery.envelope.event == Event.test, !TestThrottle(spool: Spool(root: settings.spool)).admit() {
            return finish(Reply.accepted(event: delivery.envelope.event, duplicate: false), "test coalesced")
        }
        do {
            switch try Spool(root: settings.spool).store(delivery) {
            case .duplicate:
                return finish(Reply.accepted(event: delivery.envelope.event, duplicate: true), "duplicate")
            case .stored:
                // Listed before the answer: a crash after it still leaves the build for the next runner.
                if !PendingBuilds(spool: Spool(root: settings.spool)).mark(delivery.key.buildID) {
                    RetrySweep.forgetListsComplete(spool: Spool(root: settings.spool))  // so `retry` reads every build
                }
                return finish(Reply.accepted(event: delivery.envelope.event, duplicate: false), "stored",
                              followUp: FollowUp(settings: settings, key: delivery.key))
            }
        } catch {
            return refuse(ReceiveError(.storage, error.description))
        }
    }

    private func healthProblem() -> String? {
        switch settings {
        case .failure(let error): return error.message
        case .success(let settings):
            return settings.configurationProblem ?? Spool(root: settings.spool).problem()
        }
    }
}
