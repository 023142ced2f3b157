#if canImport(Glibc)
import Glibc
#endif
import CFastCGI
import PixelhookCore
import PixelhookRuntime
import Synchronization

/// FastCGI via libfcgi: one request at a time per worker thread, translated to and from the
/// same `Receiver` the CGI gateway uses. Per-request `PIXELHOOK_*` parameters (nginx
/// `fastcgi_param`) override the process environment as far as `trust` lets them.
package struct FastCGIGateway: @unchecked Sendable {
    package let listener: Int32
    package let processEnvironment: [String: String]
    package let trust: FastCGITrust

    /// Serves one accepted request on `request`, then finishes it (nginx sees the end) and only
    /// then hands the handlers to the responder's resident runner (`ResidentRunner`).
    package func serve(_ request: inout FCGX_Request, memo: inout SettingsMemo) {
        let parameters = ProcessEnvironment.requestVariables(request.envp)
        let head = RequestHead(metaVariables: parameters)
        let receiver = Receiver(settings: settings(parameters.filter { $0.key.hasPrefix("PIXELHOOK_") }, memo: &memo, err: request.err))
        let fd = request.ipcFd
        var stdin = FastCGIStdinReader(requestID: Int(request.requestId)) { buffer, count in
            FastCGIGateway.receive(fd, buffer, count)
        }
        let reception = receiver.receive(head) { limit throws(ReceiveError) in
            try RequestBody.read(contentLength: head.contentLength, limit: limit) { stdin.read($0, $1) }
        }
        if let alarm = reception.alarm { FastCGIGateway.put(Array((alarm + "\n").utf8), to: request.err) }
        FastCGIGateway.put(reception.response.cgiBytes(includeBody: head.method != "HEAD"), to: request.out)
        // A connection the web server keeps must be at the next request's first record.
        if request.keepConnection != 0, !stdin.skipToEnd() || stdin.readPastEnd { request.keepConnection = 0 }
        FCGX_Finish_r(&request)
        if let followUp = reception.followUp {
            let error = ResidentRunner.shared.wake(followUp)
            if error != 0 { DetachedQueueRunner.alarmNotStarted(followUp, error: error) }
        }
    }

    /// The settings for a request with these `PIXELHOOK_*` parameters: with them, without
    /// them (said on stderr), or none at all when they name a path not allowed (a 500 and
    /// the alarm naming the start option).
    private func settings(
        _ overrides: [String: String], memo: inout SettingsMemo, err: UnsafeMutablePointer<FCGX_Stream>?
    ) -> Result<Settings, SettingsError> {
        switch trust.overrides.decide(overrides) {
        case .apply(let applied):
            return memo.settings(environment: processEnvironment, overrides: applied)
        case .ignore(let names):
            // On every such request in the web server's error log (no other client can use
            // it up), and once in the responder's own.
            let line = "pixelhook: ignoring the web server's \(names.joined(separator: ", ")): the responder listens on "
                + "TCP, where per-request settings apply only if it is started with --trust-params\n"
            FastCGIGateway.put(Array(line.utf8), to: err)
            if !FastCGIGateway.ignoredParametersNoted.exchange(true, ordering: .relaxed) { StandardOutput.write(line, to: 2) }
            return memo.settings(environment: processEnvironment, overrides: [:])
        case .refuse(let reason):
            return .failure(SettingsError(reason))
        }
    }

    private static let ignoredParametersNoted = Atomic<Bool>(false)

    /// `recv` on the client's connection, EINTR retried (its SO_RCVTIMEO ends a stalled read).
    package static func receive(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
        while true {
            let got = recv(fd, buffer, count, 0)
            if got < 0, errno == EINTR { continue }
            return got
        }
    }

    /// A client gone mid-response is not our failure: the write error is dropped.
    package static func put(_ bytes: [UInt8], to stream: UnsafeMutablePointer<FCGX_Stream>?) {
        guard !bytes.isEmpty else { return }
        bytes.withUnsafeBytes { buffer in
            _ = FCGX_PutStr(buffer.baseAddress!.assumingMemoryBound(to: CChar.self), Int32(buffer.count), stream)
        }
    }
}
