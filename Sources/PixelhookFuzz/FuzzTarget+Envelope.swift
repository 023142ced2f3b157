import PixelhookCore

extension FuzzTarget {
    /// Steps 5–8 on a raw body, under fixed settings and under settings that list its project.
    static func body(_ body: [UInt8]) {
        let parsed = Result { () throws(ReceiveError) -> Envelope in try EnvelopeParser.parse(body) }
        json(body)
        var settings = fixedSettings
        if case .success(let valid) = parsed {
            envelope(valid, body: body)
            var own = Settings()
            own.projectIDs = [valid.projectId]
            settings.append(own)
        }
        for setting in settings {
            triage(body, parsed: parsed, settings: setting)
        }
    }

    /// `Triage.body` agrees with the strict parser, the allow-list and the event filter.
    @discardableResult
    static func triage(_ body: [UInt8], parsed: Result<Envelope, ReceiveError>, settings: Settings) -> Triage.BodyDecision {
        let decision = Triage.body(body, settings: settings, testNonce: testNonce)
        switch (decision, parsed) {
        case (.refuse(let error, nil), .failure(let parseError)):
            Invariant.check(error == parseError && error.status == 400, "refusal \(error) is not the parser's \(parseError)")
        case (.refuse(let error, let envelope?), .success(let valid)):
            Invariant.check(Invariant.sameBytes(envelope, valid), "refused envelope differs from the parsed one")
            Invariant.check(error.kind == .unknownProject && valid.event != Event.test, "unexpected refusal \(error)")
            Invariant.check(!(settings.projectIDs ?? []).contains { Invariant.sameBytes($0, valid.projectId) },
                            "listed project refused")
        case (.ignore(let envelope, _), .success(let valid)):
            Invariant.check(Invariant.sameBytes(envelope, valid), "ignored envelope differs from the parsed one")
            Invariant.check(!Event.isKnown(valid.event) || !(settings.events?.contains(valid.event) ?? true),
                            "known, unfiltered event \(valid.event) ignored")
            allowed(valid, settings)
        case (.deliver(let delivery), .success(let valid)):
            Invariant.check(Invariant.sameBytes(delivery.envelope, valid), "delivered envelope differs from the parsed one")
            Invariant.check(delivery.body == body, "delivered body is not the raw body")
            Invariant.check(Event.isKnown(valid.event), "unknown event \(valid.event) delivered")
            Invariant.check(settings.events?.contains(valid.event) ?? true, "filtered event delivered")
            allowed(valid, settings)
            Invariant.check(delivery.key == DeliveryKey(envelope: valid, body: body, testNonce: testNonce), "key not deterministic")
            deliveryKey(delivery.key, envelope: valid)
        default:
            Invariant.check(false, "decision \(decision) does not match the parse result \(parsed)")
        }
        var expected = false
        if case .success(let valid) = parsed {
            expected = Event.isKnown(valid.event) && (settings.events?.contains(valid.event) ?? true)
                && (valid.event == Event.test || (settings.projectIDs ?? []).contains(valid.projectId))
        }
        if case .deliver = decision {
            Invariant.check(expected, "delivered although not listed, filtered out or unknown")
        } else {
            Invariant.check(!expected, "listed, known, unfiltered event not delivered: \(decision)")
        }
        return decision
    }

    /// A body past the project check: `webhook.test`, or a project listed byte for byte.
    static func allowed(_ envelope: Envelope, _ settings: Settings) {
        guard envelope.event != Event.test else { return }
        Invariant.check((settings.projectIDs ?? []).contains { Invariant.sameBytes($0, envelope.projectId) },
                        "projectId \(envelope.projectId.unicodeScalars.map(\.value)) passed without being listed byte for byte")
    }

    /// A valid envelope: written back as the sender writes it, it parses to itself; its
    /// timestamp is an instant that formats and reads back.
    static func envelope(_ envelope: Envelope, body: [UInt8]) {
        Invariant.check(JSONScanner.isValid(body), "parser accepted a body JSONScanner.isValid refuses")
        let written = Array(envelope.json.description.utf8)
        guard case .success(let again) = Result(catching: { () throws(ReceiveError) in try EnvelopeParser.parse(written) }) else {
            Invariant.check(false, "envelope written back does not parse: \(envelope.json)")
            return
        }
        Invariant.check(Invariant.sameBytes(again, envelope), "envelope written back parses differently")
        timestamp(envelope.timestamp)
    }

    static func timestamp(_ text: String) {
        guard Timestamp.isISO8601(text) else { return }
        guard let milliseconds = EpochTime.milliseconds(iso8601: text) else {
            Invariant.check(false, "ISO 8601 timestamp without an instant: \(text)")
            return
        }
        let formatted = EpochTime.iso8601(milliseconds: milliseconds)
        // Years 0000 and 9999 shifted by an offset leave the four-digit profile; nothing to compare.
        guard Timestamp.isISO8601(formatted) else { return }
        Invariant.check(EpochTime.milliseconds(iso8601: formatted) == milliseconds, "\(text) → \(formatted) does not read back")
    }

    /// Every segment of a key is one safe path component, and readable ids are kept as they are.
    static func deliveryKey(_ key: DeliveryKey, envelope: Envelope) {
        for segment in [key.project, key.build, key.event] {
            // `~` joins readable ids, digests and nonces; a segment may start with it.
            for (index, piece) in segment.split(separator: "~", omittingEmptySubsequences: false).enumerated()
            where !(index == 0 && piece.isEmpty) {
                Invariant.check(safe(String(piece)), "unsafe piece \(piece.debugDescription) in key segment \(segment.debugDescription)")
            }
        }
        for segment in [key.project, key.build, key.event] {
            let bytes = Array(segment.utf8)
            Invariant.check(!bytes.isEmpty && bytes.first != UInt8(ascii: ".") && !bytes.contains(UInt8(ascii: "/"))
                            && bytes.allSatisfy(isKeyByte), "unsafe key segment \(segment.debugDescription)")
        }
        Invariant.check(key.project == DeliveryKey.segment(envelope.projectId), "project segment is not segment(projectId)")
        Invariant.check(Invariant.sameBytes(key.project, envelope.projectId) == safe(envelope.projectId),
                        "readable projectId \(envelope.projectId.debugDescription) not kept, or unsafe one kept")
        Invariant.check(key.id.split(separator: "/", omittingEmptySubsequences: false).count == 3, "key id is not three segments")
    }

    /// `[A-Za-z0-9][A-Za-z0-9._-]{0,63}`: the readable form of a key segment.
    static func safe(_ id: String) -> Bool {
        let bytes = Array(id.utf8)
        guard let first = bytes.first, bytes.count <= 64, isAlphanumeric(first) else { return false }
        return bytes.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
    }

    private static func isKeyByte(_ byte: UInt8) -> Bool {
        isAlphanumeric(byte) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_")
            || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "~")
    }
}
