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
struct FastCGIGateway: @unchecked Sendable {
    let listener: Int32
    let processEnvironment: [String: String]
    let trust: FastCGITrust

    /// Whether the client of the accepted connection `fd` may be served (`--allowed-clients`).
    /// Call it on every connection accepted outside libfcgi's `OS_Accept` too.
    func isAllowedClient(_ fd: Int32) -> Bool { trust.clients?.admits(fd) ?? true }

    /// Serves one accepted request on `request`, then finishes it (nginx sees the end) and only
    /// then hands the handlers to a detached runner.
    func serve(_ request: inout FCGX_Request, memo: inout SettingsMemo) {
        guard isAllowedClient(request.ipcFd) else { return refuseClient(&request) }
        let parameters = ProcessEnvironment.requestVariables(request.envp)
        let head = RequestHead(metaVariables: parameters)
        let receiver = Receiver(settings: settings(parameters.filter { $0.key.hasPrefix("PIXELHOOK_") }, memo: &memo, err: request.err))
        let input = request.in
        let reception = receiver.receive(head) { limit throws(ReceiveError) in
            try FastCGIGateway.readBody(input, contentLength: head.contentLength, limit: limit)
        }
        if let alarm = reception.alarm { FastCGIGateway.put(Array((alarm + "\n").utf8), to: request.err) }
        FastCGIGateway.put(reception.response.cgiBytes(includeBody: head.method != "HEAD"), to: request.out)
        FCGX_Finish_r(&request)
        if let followUp = reception.followUp { _ = DetachedQueueRunner.wake(followUp) }
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

    /// Closes the connection unanswered, as libfcgi does with a peer not in its list, and
    /// says so on the responder's stderr.
    private func refuseClient(_ request: inout FCGX_Request) {
        let peer = SocketAddress.peer(of: request.ipcFd).map { "\($0)" } ?? "an unknown address"
        StandardOutput.write("pixelhook: refused a FastCGI connection from \(peer): not in --allowed-clients \(trust.clients.map { "\($0)" } ?? "")\n", to: 2)
        FCGX_Free(&request, 1)
    }

    /// The body from libfcgi's input stream (see `RequestBody.read`).
    static func readBody(_ stream: UnsafeMutablePointer<FCGX_Stream>?, contentLength: Int?, limit: Int) throws(ReceiveError) -> [UInt8] {
        try RequestBody.read(contentLength: contentLength, limit: limit) { buffer, count in
            Int(FCGX_GetStr(buffer.assumingMemoryBound(to: CChar.self), Int32(count), stream))
        }
    }

    /// A client gone mid-response is not our failure: the write error is dropped.
    static func put(_ bytes: [UInt8], to stream: UnsafeMutablePointer<FCGX_Stream>?) {
        guard !bytes.isEmpty else { return }
        bytes.withUnsafeBytes { buffer in
            _ = FCGX_PutStr(buffer.baseAddress!.assumingMemoryBound(to: CChar.self), Int32(buffer.count), stream)
        }
    }
}
