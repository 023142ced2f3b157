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
        /// to stderr, which web servers keep in their error log; the receiver has already
        /// appended it to `SPOOL/alarms.log` (`AlarmLog`).
        public let alarm: String?
    }

    /// Reads the body on demand: `readBody(limit)` returns at most `limit + 1` bytes (one more
    /// than allowed means too large) and throws `ReceiveError` for a truncated body.
    public func receive(
        _ head: RequestHead, readBody: (Int) throws(ReceiveError) -> [UInt8]
    ) -> Reception {
        // nil: no request log (settings invalid, or a spool that is not ours: nothing is written into it).
        var spool = (try? settings.get()).map { Spool(root: $0.spool) }
        var envelope: Envelope?
        let settingsSpool: String? = if case .failure(let error) = settings { error.spool } else { nil }

        /// `detail`: what the operator needs and no HTTP client may see (paths, users, OS
        /// errors); it goes to the request log and the alarm, never into the response.
        func finish(_ response: HTTPResponse, _ outcome: String, detail: String? = nil,
                    followUp: FollowUp? = nil) -> Reception {
            let logged = detail.map { "\(outcome) (\($0))" } ?? outcome
            if let spool {
                RequestLog(spool: spool).append(RequestRecord(
                    time: Clock.iso8601(), remoteAddress: head.remoteAddress, method: head.method,
                    status: response.status, envelope: envelope, outcome: logged))
            }
            let alarm = response.status == 500 || response.status == 503
                ? "pixelhook: \(response.status) \(logged)" : nil
            // Kept in the spool too, whatever the gateway does with stderr; never in a
            // refused one (`spool` is nil then), and found for invalid settings too.
            if let alarm, let root = spool?.root ?? settingsSpool { AlarmLog(spool: Spool(root: root)).append(alarm) }
            return Reception(response: response, followUp: followUp, alarm: alarm)
        }
        func refuse(_ error: ReceiveError, detail: String? = nil) -> Reception {
            finish(error.response, "\(error.kind.code): \(error.reason)", detail: detail)
        }
        let settingsDetail: String? = if case .failure(let error) = settings { error.message } else { nil }

        let limit: Int
        switch Triage.head(head, settings: settings) {
        case .health:
            let problem = healthProblem()
            if problem == nil, let handlers = handlersProblem() {
                // Deliveries would be stored and fail: a monitor must see it, the internet
                // only that much; the directory's path goes to the error log.
                return finish(Reply.health(problem: handlers.reason), "health", detail: handlers.detail)
            }
            if problem?.refused == true { spool = nil }
            return finish(Reply.health(problem: problem?.reason), "health", detail: problem?.detail)
        case .read(let view):
            guard case .success(let valid) = settings else { return refuse(ReceiveError(.configuration, Triage.settingsInvalid)) }
            do {
                try Spool(root: valid.spool).verifyTrusted()
            } catch {
                // A spool that is not ours: nothing is read from it or written into it.
                spool = nil
                return refuse(ReceiveError(.storage, error.publicReason), detail: error.description)
            }
            return finish(ReadViews.render(view, settings: valid), "view \(view.rawValue)")
        case .refuse(let error):
            return refuse(error, detail: error.kind == .configuration ? settingsDetail : nil)
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
            let spool = Spool(root: settings.spool)
            try spool.verifyTrusted()
            switch try spool.store(delivery) {
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
            if error.refusal != nil { spool = nil }
            return refuse(ReceiveError(.storage, error.publicReason), detail: error.description)
        }
    }

    /// The handlers directory cannot be used: every delivery would fail until it is fixed.
    private func handlersProblem() -> (reason: String, detail: String)? {
        guard case .success(let settings) = settings else { return nil }
        return HandlersDirectory(path: settings.handlers).problem
    }

    /// Why the receiver cannot accept deliveries: `reason` for the HTTP client, `detail` for
    /// the error log.
    private func healthProblem() -> (reason: String, detail: String?, refused: Bool)? {
        switch settings {
        case .failure(let error): return (Triage.settingsInvalid, error.message, false)
        case .success(let settings):
            if let problem = settings.configurationProblem { return (problem, nil, false) }
            return Spool(root: settings.spool).storageProblem().map { ($0.publicReason, $0.description, $0.refusal != nil) }
        }
    }
}
