#if canImport(Glibc)
import Glibc
#endif
import CFastCGI
import PixelhookCore
import PixelhookRuntime

/// FastCGI via libfcgi: one request at a time per worker thread, translated to and from the
/// same `Receiver` the CGI gateway uses. Per-request `PIXELHOOK_*` parameters (nginx
/// `fastcgi_param`) override the process environment.
struct FastCGIGateway: @unchecked Sendable {
    let listener: Int32
    let processEnvironment: [String: String]

    /// Serves one accepted request on `request`, then finishes it (nginx sees the end) and only
    /// then hands the handlers to a detached runner.
    func serve(_ request: inout FCGX_Request, memo: inout SettingsMemo) {
        let parameters = ProcessEnvironment.requestVariables(request.envp)
        let head = RequestHead(metaVariables: parameters)
        let overrides = parameters.filter { $0.key.hasPrefix("PIXELHOOK_") }
        let receiver = Receiver(settings: memo.settings(environment: processEnvironment, overrides: overrides))
        let input = request.in
        let reception = receiver.receive(head) { limit throws(ReceiveError) in
            try FastCGIGateway.readBody(input, contentLength: head.contentLength, limit: limit)
        }
        if let alarm = reception.alarm { FastCGIGateway.put(Array((alarm + "\n").utf8), to: request.err) }
        FastCGIGateway.put(reception.response.cgiBytes(includeBody: head.method != "HEAD"), to: request.out)
        FCGX_Finish_r(&request)
        if let followUp = reception.followUp { _ = DetachedQueueRunner.wake(followUp) }
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
