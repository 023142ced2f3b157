import PixelhookCore

extension FuzzTarget {
    /// One request the way the CGI gateway and `Receiver` run it, short of the disk: the
    /// meta-variables give the head and the settings (the process environment of a CGI program
    /// holds both), the rest of the input is the body on stdin.
    static func request(_ input: (variables: [String: String], rest: ArraySlice<UInt8>)) {
        let variables = input.variables
        let head = RequestHead(metaVariables: variables)
        let settings = Result { () throws(SettingsError) -> Settings in try Settings.parse(Settings.merge(variables)) }
        settingsFromRequest(variables)
        headFields(head, variables)

        let response: HTTPResponse
        var envelope: Envelope?
        let decision = Triage.head(head, settings: settings)
        switch decision {
        case .health:
            Invariant.check(head.method == "GET" || head.method == "HEAD", "health check for \(head.method)")
            response = Reply.health(problem: (try? settings.get())?.configurationProblem)
        case .read(let view):
            // Only the read token opens a view, never the sender's token alone.
            let readToken = (try? settings.get())?.readToken
            Invariant.check(head.method == "GET" || head.method == "HEAD", "read view for \(head.method)")
            Invariant.check(readToken != nil, "read view \(view) opened with no read token set")
            response = Reply.health(problem: nil)  // the view itself needs the disk; the gate is what is fuzzed
        case .refuse(let error):
            response = error.response
            refusedHead(error, head, settings)
        case .readBody(let limit):
            guard case .success(let valid) = settings else {
                Invariant.check(false, "body read with invalid settings")
                return
            }
            acceptedHead(head, valid, limit: limit)
            (response, envelope) = requestBody(head, Array(input.rest), settings: valid, limit: limit)
        }
        self.response(response, method: head.method)
        let record = RequestRecord(time: "2026-03-29T14:30:00.000Z", remoteAddress: head.remoteAddress,
                                   method: head.method, status: response.status, envelope: envelope,
                                   outcome: String(decoding: response.body, as: UTF8.self))
        let line = Array(record.line.utf8)
        Invariant.check(line.last == 0x0A && line.filter { $0 == 0x0A }.count == 1, "request log record is not one line")
        Invariant.check(JSONScanner.scalarMembers(Array(line.dropLast())) != nil, "request log record is not a JSON object")
    }

    /// Steps 5–8 after a head that allowed a body: read it as a gateway does, then triage it.
    static func requestBody(
        _ head: RequestHead, _ stdin: [UInt8], settings: Settings, limit: Int
    ) -> (HTTPResponse, Envelope?) {
        var offset = 0
        let read = Result { () throws(ReceiveError) -> [UInt8] in
            try RequestBody.read(contentLength: head.contentLength, limit: limit) { pointer, count in
                let taken = min(count, stdin.count - offset, 7)  // short reads, as from a pipe
                if taken > 0 { stdin.withUnsafeBytes { pointer.copyMemory(from: $0.baseAddress! + offset, byteCount: taken) } }
                offset += taken
                return taken
            }
        }
        let body: [UInt8]
        switch read {
        case .failure(let error):
            Invariant.check(error.status == 400 && head.contentLength.map { stdin.count < $0 } == true, "read refused: \(error)")
            return (error.response, nil)
        case .success(let bytes):
            body = bytes
        }
        Invariant.check(body.count <= limit + 1 && body.count <= stdin.count, "read \(body.count) bytes, limit \(limit)")
        Invariant.check(Array(stdin.prefix(body.count)) == body, "body is not the start of stdin")
        if let length = head.contentLength { Invariant.check(body.count == min(length, limit + 1), "body length ignores Content-Length") }
        guard body.count <= limit else { return (Triage.tooLarge(settings).response, nil) }

        let parsed = Result { () throws(ReceiveError) -> Envelope in try EnvelopeParser.parse(body) }
        switch triage(body, parsed: parsed, settings: settings) {
        case .refuse(let error, let envelope): return (error.response, envelope)
        case .ignore(let envelope, let reason): return (Reply.ignored(event: envelope.event, reason: reason), envelope)
        case .deliver(let delivery): return (Reply.accepted(event: delivery.envelope.event, duplicate: false), delivery.envelope)
        }
    }

    static func settingsFromRequest(_ variables: [String: String]) {
        let merged = Settings.merge(variables)
        Invariant.check(merged.keys.allSatisfy { $0.hasPrefix("PIXELHOOK_") }, "merge kept a variable that is not a setting")
        settings(merged)
    }

    static func headFields(_ head: RequestHead, _ variables: [String: String]) {
        if let length = head.contentLength { Invariant.check(length >= -1, "Content-Length \(length)") }
        if let text = variables["CONTENT_LENGTH"], !text.isEmpty, let value = Int(text), value >= 0 {
            Invariant.check(head.contentLength == value, "CONTENT_LENGTH \(text) read as \(String(describing: head.contentLength))")
        }
        Invariant.check(head.contentType.map { !$0.isEmpty } ?? true, "empty Content-Type kept")
        if head.hasJSONMediaType { Invariant.check(head.contentType?.lowercased().contains("application/json") == true, "not JSON") }
    }

    /// A head refusal is the first failing step of SPEC "One request" 1–4.
    static func refusedHead(_ error: ReceiveError, _ head: RequestHead, _ settings: Result<Settings, SettingsError>) {
        if head.method == "GET" || head.method == "HEAD" {
            // Only a `?view=` is refused on GET: the read views' gate.
            Invariant.check([.configuration, .notFound, .unauthorized].contains(error.kind), "\(head.method) refused with \(error.kind)")
            Invariant.check(head.queryParameter("view") != nil, "\(head.method) without ?view= refused")
            return
        }
        guard head.method == "POST" else {
            Invariant.check(error.kind == .methodNotAllowed, "\(head.method) refused with \(error.kind)")
            return
        }
        guard case .success(let valid) = settings, valid.configurationProblem == nil else {
            Invariant.check(error.kind == .configuration, "invalid settings refused with \(error.kind)")
            return
        }
        Invariant.check([.unauthorized, .unsupportedMediaType, .payloadTooLarge, .invalidPayload].contains(error.kind),
                        "POST refused with \(error.kind)")
        if error.kind != .unauthorized, let token = valid.token {
            Invariant.check(acceptsToken(head, token), "wrong token passed step 2")
        }
    }

    /// The query carries the token in one of its readings (`+` as a space, or as itself).
    static func acceptsToken(_ head: RequestHead, _ token: String) -> Bool {
        head.queryParameterReadings("token")?.contains { Invariant.sameBytes($0, token) } == true
    }

    /// A head that allowed a body passed every check of steps 1–4.
    static func acceptedHead(_ head: RequestHead, _ settings: Settings, limit: Int) {
        Invariant.check(head.method == "POST" && settings.configurationProblem == nil, "body read for \(head.method)")
        Invariant.check(limit == settings.maxBody, "limit \(limit) is not PIXELHOOK_MAX_BODY")
        if let token = settings.token {
            Invariant.check(acceptsToken(head, token), "wrong token accepted")
        }
        Invariant.check(head.hasJSONMediaType, "media type \(String(describing: head.contentType)) accepted")
        if let length = head.contentLength { Invariant.check((0...settings.maxBody).contains(length), "length \(length) accepted") }
    }

    /// Every response is a JSON object with a known status, and a header block without injected lines.
    static func response(_ response: HTTPResponse, method: String) {
        Invariant.check([200, 400, 401, 403, 405, 413, 415, 500, 503].contains(response.status), "status \(response.status)")
        Invariant.check(JSONScanner.scalarMembers(response.body) != nil, "response body is not a JSON object: \(response.bodyText)")
        let bytes = response.cgiBytes(includeBody: method != "HEAD")
        let separator: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A]
        guard let end = (0...(bytes.count - 4)).first(where: { bytes[$0..<($0 + 4)].elementsEqual(separator) }) else {
            Invariant.check(false, "CGI response without a header block")
            return
        }
        let lines = bytes[..<end].split(separator: 0x0A).count
        Invariant.check(lines == 3 + response.extraHeaders.count, "CGI header block has \(lines) lines")
        Invariant.check(bytes.count - end - 4 == (method == "HEAD" ? 0 : response.body.count), "CGI body length")
    }
}
