#if canImport(Glibc)
import Glibc
#endif
import AsyncHTTPClient
import NIOCore
import NIOPosix
import PixelhookCore

/// Posts payloads the way Streampixel does (`send`, `simulate`): one `POST` with
/// `Content-Type: application/json`, a time limit on the whole exchange (the sender's is 10 s),
/// no retry, no redirect followed. Only these two commands create one: nothing here runs on the
/// CGI or FastCGI path.
final class WebhookClient {
    /// What the receiver answered.
    struct Reply {
        let status: Int
        let body: String

        var isSuccess: Bool { (200..<300).contains(status) }

        /// `EVENT STATUS BODY` on one line, the body's line breaks folded into spaces.
        func line(for event: String) -> String {
            let folded = body.split(whereSeparator: \.isNewline).map { $0.trimmingBlanks() }
                .filter { !$0.isEmpty }.joined(separator: " ")
            return folded.isEmpty ? "\(event) \(status)" : "\(event) \(status) \(folded)"
        }
    }

    /// No answer: the one line to print.
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    private let client: HTTPClient
    private let timeoutSeconds: Double

    init(timeoutSeconds: Double) {
        self.timeoutSeconds = timeoutSeconds
        let limit = TimeAmount.nanoseconds(Int64(timeoutSeconds * 1e9))
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: limit, read: limit))
        // A refused connection is an answer for the operator, not something to retry until the
        // time limit: the sender does not retry either.
        configuration.connectionPool.retryConnectionEstablishment = false
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    deinit { try? client.syncShutdown() }

    /// Posts `body` to `url` and waits for the whole answer, at most the time limit.
    func post(_ body: [UInt8], to url: String) throws(Failure) -> Reply {
        let target = WebhookURL.redacted(url)
        let request: HTTPClient.Request
        do {
            request = try HTTPClient.Request(
                url: url, method: .POST,
                headers: ["Content-Type": "application/json", "User-Agent": "pixelhook"],
                body: .bytes(body))
        } catch {
            throw Failure(description: "cannot post to \(target): \(WebhookClient.explain(error))")
        }
        let deadline = NIODeadline.now() + .nanoseconds(Int64(timeoutSeconds * 1e9))
        do {
            let response = try client.execute(request: request, deadline: deadline).wait()
            let text = response.body.map { String(buffer: $0) } ?? ""
            return Reply(status: Int(response.status.code), body: text)
        } catch {
            throw Failure(description: "\(target): \(WebhookClient.explain(error, timeout: timeoutSeconds))")
        }
    }

    /// One line a person can act on, never a Swift type dump.
    static func explain(_ error: any Error, timeout: Double = 0) -> String {
        let seconds = timeout == timeout.rounded() ? String(Int(timeout)) : String(timeout)
        switch error {
        case let error as HTTPClientError:
            switch error {
            case .connectTimeout: return "no connection within \(seconds) s"
            case .readTimeout, .deadlineExceeded, .getConnectionFromPoolTimeout, .tlsHandshakeTimeout:
                return "no answer within \(seconds) s (--timeout)"
            case .remoteConnectionClosed: return "the server closed the connection without answering"
            default: return error.shortDescription.lowercased()
            }
        case let error as NIOConnectionError:
            if let failure = error.connectionErrors.first { return "cannot connect: " + explain(failure.error, timeout: timeout) }
            if error.dnsAError != nil || error.dnsAAAAError != nil { return "cannot resolve the host \(error.host)" }
            return "cannot connect to \(error.host):\(error.port)"
        case let error as IOError:
            return String(cString: strerror(error.errnoCode)).lowercased()
        default:
            return "\(error)"
        }
    }
}

/// The URL argument of `send` and `simulate`.
enum WebhookURL {
    /// Why `url` cannot be posted to, or `nil`: only `http://` and `https://` with a host.
    static func problem(_ url: String) -> String? {
        let lowered = url.lowercased()
        guard let scheme = ["http://", "https://"].first(where: { lowered.hasPrefix($0) }) else {
            return "the URL must start with http:// or https://, got \(url)"
        }
        let host = url.dropFirst(scheme.count).prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard !host.isEmpty, !host.hasPrefix(":") else { return "the URL has no host: \(url)" }
        guard !url.contains(where: { $0 == " " || $0 == "\n" || $0 == "\t" }) else {
            return "the URL must not contain spaces or line breaks (percent-encode them)"
        }
        return nil
    }

    /// `url` without its query, for messages: `?token=SECRET` stays out of logs.
    static func redacted(_ url: String) -> String {
        guard let query = url.firstIndex(of: "?") else { return url }
        return String(url[..<query]) + "?…"
    }
}

extension Substring {
    /// Without leading and trailing spaces and tabs.
    func trimmingBlanks() -> Substring {
        let blank = { (character: Character) in character == " " || character == "\t" }
        guard let first = firstIndex(where: { !blank($0) }), let last = lastIndex(where: { !blank($0) }) else { return "" }
        return self[first...last]
    }
}
