#if canImport(Glibc)
import Glibc
#endif
import PixelhookCore
import PixelhookRuntime

/// Posts payloads the way Streampixel does (`send`, `simulate`): one `POST` with
/// `Content-Type: application/json`, a time limit on the whole exchange (the sender's is 10 s),
/// no retry, no redirect followed.
///
/// The HTTP work is curl's (http and https, the system's CA store, `https_proxy`), run as a
/// process: linking an HTTP client library (AsyncHTTPClient was measured) made the one-shot CGI
/// start 25 % more instructions (1.38 M -> 1.73 M per health check, valgrind) and the static
/// binary 18 -> 30 MB stripped, for two operator commands.
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

    private let timeoutSeconds: Double
    private let curl: String?

    init(timeoutSeconds: Double) {
        self.timeoutSeconds = timeoutSeconds
        curl = ["/usr/bin/curl", "/usr/local/bin/curl", "/bin/curl"].first { access($0, X_OK) == 0 }
    }

    /// Posts `body` to `url` and waits for the whole answer, at most the time limit.
    func post(_ body: [UInt8], to url: String) throws(Failure) -> Reply {
        let target = WebhookURL.redacted(url)
        guard let curl else { throw Failure(description: "cannot post to \(target): curl is not installed (apt-get install curl)") }
        var template = Array("/tmp/pixelhook-send.XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw Failure(description: "cannot create a temporary directory") }
        let directory = String(cString: made)
        defer {
            for name in ["body", "answer", "error"] { unlink(directory + "/" + name) }
            rmdir(directory)
        }
        guard write(body, to: directory + "/body") else { throw Failure(description: "cannot write \(directory)/body") }

        let seconds = timeoutSeconds == timeoutSeconds.rounded() ? String(Int(timeoutSeconds)) : String(timeoutSeconds)
        var process = HandlerProcess(
            executable: curl,
            arguments: ["--silent", "--show-error", "--max-time", seconds, "--request", "POST",
                        "--header", "Content-Type: application/json", "--user-agent", "pixelhook",
                        "--data-binary", "@-", "--output", directory + "/answer",
                        "--stderr", directory + "/error", "--write-out", "%{http_code}", "--", url],
            payloadPath: directory + "/body",
            environment: ProcessEnvironment.current(), workingDirectory: directory,
            timeoutSeconds: timeoutSeconds + 5)
        process.outputCap = 64
        let outcome: HandlerProcess.Outcome
        do {
            outcome = try process.run()
        } catch {
            throw Failure(description: "cannot post to \(target): \(error)")
        }
        let status = Int(String(decoding: outcome.output, as: UTF8.self)) ?? 0
        guard outcome.exitCode == 0, status > 0 else {
            let said = read(directory + "/error").split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
            throw Failure(description: "\(target): \(WebhookClient.explain(curlExit: outcome.exitCode, said: said, seconds: seconds))")
        }
        return Reply(status: status, body: read(directory + "/answer"))
    }

    /// One line a person can act on, from curl's exit status (its manual's EXIT CODES).
    static func explain(curlExit: Int?, said: String, seconds: String) -> String {
        switch curlExit {
        case 6?: return "cannot resolve the host"
        case 7?: return "cannot connect: connection refused or host unreachable"
        case 28?: return "no answer within \(seconds) s (--timeout)"
        case 52?: return "the server closed the connection without answering"
        case 35?, 60?: return "TLS failed: " + said.replacingCurlPrefix()
        default: return said.isEmpty ? "curl failed (exit \(curlExit.map(String.init) ?? "signal"))" : said.replacingCurlPrefix()
        }
    }

    private func write(_ bytes: [UInt8], to path: String) -> Bool {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) } == bytes.count
    }

    private func read(_ path: String) -> String {
        guard let file = fopen(path, "rb") else { return "" }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = fread(&chunk, 1, chunk.count, file)
            if count <= 0 { break }
            bytes += chunk[0..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension String {
    /// curl's "curl: (7) Failed to …" without its prefix.
    fileprivate func replacingCurlPrefix() -> String {
        guard hasPrefix("curl: ("), let close = firstIndex(of: ")") else { return self }
        return String(self[index(after: close)...]).trimmingCharacters(in: " ")
    }

    fileprivate func trimmingCharacters(in set: Character) -> String {
        String(drop { $0 == set }.reversed().drop { $0 == set }.reversed())
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
