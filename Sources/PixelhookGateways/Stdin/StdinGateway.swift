import PixelhookCore
import PixelhookRuntime

/// `pixelhook handle < payload.json`: one payload on stdin through the same `Receiver` as a web
/// request. There is no URL, so no token to check, and the operator's own test is not throttled.
package enum StdinGateway {
    package static func receive(settings: Result<Settings, SettingsError>) -> Receiver.Reception {
        let head = RequestHead(method: "POST", contentType: "application/json", remoteAddress: "stdin")
        var receiver = Receiver(settings: settings.map { valid -> Settings in var copy = valid; copy.token = nil; return copy })
        receiver.throttlesTests = false
        return receiver.receive(head) { limit throws(ReceiveError) in
            try StandardInput.readBody(contentLength: nil, limit: limit)
        }
    }
}
