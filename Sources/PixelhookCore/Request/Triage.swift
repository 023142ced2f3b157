/// The decision for one request, SPEC "One request" steps 1–8 (and the read views' gate), as pure functions.
///
/// Step 9 (store durably, detect the duplicate) and step 10 (run the handler) need the disk and
/// belong to `PixelhookRuntime.Receiver`, which calls these two functions in order.
public enum Triage {
    public enum HeadDecision: Sendable, Equatable {
        /// GET or HEAD: the caller checks the spool and answers with `Reply.health`.
        case health
        /// `GET ?view=NAME` with the read token: the caller renders the view.
        case read(ReadView)
        case refuse(ReceiveError)
        /// Read at most `limit` bytes of body (the caller stops at `limit + 1`: too large).
        case readBody(limit: Int)
    }

    public enum BodyDecision: Sendable, Equatable {
        case refuse(ReceiveError, Envelope?)
        /// Acknowledged and logged, not stored, no handler (filtered or unknown event).
        case ignore(Envelope, reason: String)
        case deliver(Delivery)
    }

    /// Steps 1–4: everything decided from the method, headers and settings.
    public static func head(_ head: RequestHead, settings: Result<Settings, SettingsError>) -> HeadDecision {
        switch head.method {
        case "GET", "HEAD":
            // A plain GET stays the uptime monitor's health check; `?view=` asks for a read view.
            guard let view = head.queryParameter("view") else { return .health }
            switch ReadView.gate(named: view, head, settings: settings) {
            case .success(let opened): return .read(opened)
            case .failure(let refusal): return .refuse(refusal)
            }
        case "POST": break
        default: return .refuse(ReceiveError(.methodNotAllowed, "method \(EnvelopeParser.cut(head.method)) is not allowed; use POST"))
        }
        let valid: Settings
        switch settings {
        case .failure: return .refuse(ReceiveError(.configuration, settingsInvalid))
        case .success(let loaded): valid = loaded
        }
        if let problem = valid.configurationProblem {
            return .refuse(ReceiveError(.configuration, problem))
        }
        if let token = valid.token {
            guard let readings = head.queryParameterReadings("token") else {
                return .refuse(ReceiveError(.unauthorized, "missing ?token= in the URL"))
            }
            // Every reading is compared, so the time taken does not tell which one matched.
            let matches = readings.map { ConstantTime.equals($0, token) }
            guard matches.contains(true) else {
                return .refuse(ReceiveError(.unauthorized, "wrong token"))
            }
        }
        guard head.hasJSONMediaType else {
            let given = head.contentType.map { "got \(EnvelopeParser.cut($0))" } ?? "no Content-Type given"
            return .refuse(ReceiveError(.unsupportedMediaType, "Content-Type must be application/json, \(given)"))
        }
        if let length = head.contentLength {
            guard length >= 0 else { return .refuse(ReceiveError(.invalidPayload, "Content-Length is not a number")) }
            guard length <= valid.maxBody else { return .refuse(tooLarge(valid)) }
        }
        return .readBody(limit: valid.maxBody)
    }

    /// What an HTTP client learns of invalid settings: their message may name paths and users,
    /// so it goes to the web server's error log (`Receiver`'s alarm) instead.
    public static let settingsInvalid = "settings invalid (the web server's error log says why)"

    public static func tooLarge(_ settings: Settings) -> ReceiveError {
        ReceiveError(.payloadTooLarge, "body is larger than \(Settings.Key.maxBody) (\(settings.maxBody) bytes)")
    }

    /// Steps 5–8 (short of the spool): validate, check project and event filters, key the delivery.
    public static func body(_ body: [UInt8], settings: Settings, testNonce: String) -> BodyDecision {
        let envelope: Envelope
        do {
            envelope = try EnvelopeParser.parse(body)
        } catch {
            return .refuse(error, nil)
        }
        let isTest = envelope.event == Event.test
        if !isTest, !(settings.projectIDs ?? []).contains(envelope.projectId) {
            return .refuse(ReceiveError(.unknownProject, "projectId \(EnvelopeParser.abbreviated(envelope.projectId)) is not in \(Settings.Key.projectIDs)"), envelope)
        }
        if let events = settings.events, !events.contains(envelope.event) {
            return .ignore(envelope, reason: "event not in \(Settings.Key.events)")
        }
        guard Event.isKnown(envelope.event) else {
            return .ignore(envelope, reason: "unknown event")
        }
        let key = DeliveryKey(envelope: envelope, body: body, testNonce: testNonce)
        return .deliver(Delivery(envelope: envelope, body: body, key: key))
    }
}
