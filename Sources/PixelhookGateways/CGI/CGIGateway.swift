#if canImport(Glibc)
import Glibc
#endif
import PixelhookCore
import PixelhookRuntime

/// CGI (RFC 3875): meta-variables in the environment, the body on stdin, the response on
/// stdout. After the response, stdout and stderr are closed and the handler is handed to a
/// detached runner, so the web server sees the response end now.
package enum CGIGateway {
    package static func serve(environment: [String: String]) -> Int32 {
        let head = RequestHead(metaVariables: environment)
        let receiver = Receiver(settings: SettingsLoader.load(environment: environment))
        var consumed = 0
        let reception = receiver.receive(head) { limit throws(ReceiveError) in
            let body = try StandardInput.readBody(contentLength: head.contentLength, limit: limit)
            consumed = body.count
            return body
        }
        if reception.response.status == 413 || (head.contentLength ?? 0) > consumed {
            // SPEC "One request" rule 4: the JSON 413 (and any answer given before the body was
            // read: 401, 405, 415) must get through fcgiwrap, which answers 502 for a CGI that
            // exits while it is still writing the body to the CGI's stdin.
            StandardInput.discardBody(remaining: head.contentLength.map { $0 - consumed }, seconds: 5)
        }
        if let alarm = reception.alarm { StandardOutput.write(alarm + "\n", to: 2) }
        // lighttpd's mod_cgi sends SIGTERM the moment the response is complete, and a web
        // server that hung up turns our write into SIGPIPE: either would kill us between
        // acknowledging a stored delivery and starting its handler. The runner gets default
        // dispositions back (see `DetachedQueueRunner`).
        signal(SIGTERM, SIG_IGN)
        signal(SIGPIPE, SIG_IGN)
        let sent = StandardOutput.write(reception.response.cgiBytes(includeBody: head.method != "HEAD"), to: 1)
        StandardOutput.detachStdio()
        if let followUp = reception.followUp {
            let error = DetachedQueueRunner.wake(followUp)
            // stderr is gone: the alarm log only. The delivery is stored and `retry` runs it.
            if error != 0 { DetachedQueueRunner.alarmNotStarted(followUp, error: error) }
        }
        return sent ? 0 : 1
    }
}
