import Foundation
import PixelhookTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// What a finished process left: exit status and its output.
struct Finished: CustomStringConvertible {
    let status: Int32
    let stdout: String
    let stderr: String
    let seconds: Double

    var stdoutLines: [String] { stdout.split(separator: "\n").map(String.init) }
    var stderrLines: [String] { stderr.split(separator: "\n").map(String.init) }

    var description: String { "exit \(status), stdout: \(stdout.debugDescription), stderr: \(stderr.debugDescription)" }

    init(status: Int32, stdout: String, stderr: String, seconds: Double) {
        (self.status, self.stdout, self.stderr, self.seconds) = (status, stdout, stderr, seconds)
    }

    /// `status` as `Process` gave it: the exit code, or the number of the signal that ended it.
    init(_ outcome: ProcessOutcome, command: [String]) throws {
        guard !outcome.timedOut else { throw FixtureError("\(command) still ran after \(outcome.seconds) s") }
        self.init(status: outcome.exitCode ?? outcome.signal ?? -1, stdout: outcome.stdout, stderr: outcome.stderr, seconds: outcome.seconds)
    }
}

enum Run {
    /// A clean environment (nothing of the test runner's PIXELHOOK_* leaks in) plus `extra`.
    static func environment(_ extra: [String: String] = [:]) -> [String: String] {
        ChildProcess.plainEnvironment.merging(extra) { $1 }
    }

    /// Runs `executable` to its end (at most `timeout` seconds), output in files.
    static func process(_ executable: String, _ arguments: [String], environment: [String: String] = environment(),
                        directory: String? = nil, stdin: String? = nil, timeout: Double = 30) throws -> Finished {
        try Finished(ChildProcess.run(executable, arguments, environment: environment, stdin: stdin, directory: directory, timeout: timeout),
                     command: [executable] + arguments)
    }

    static func pixelhook(_ arguments: [String], environment: [String: String] = environment(), stdin: String? = nil,
                          timeout: Double = 30) throws -> Finished {
        try Finished(PixelhookRun.run(arguments, environment: environment, stdin: stdin, timeout: timeout), command: ["pixelhook"] + arguments)
    }
}

/// A local HTTP server standing in for a webhook receiver (or Slack): python3's http.server on
/// 127.0.0.1 and a free port it picks itself, recording every request it gets. Answers
/// `status` (500 for a body whose event is `failEvent`), after `delay` seconds. Stopped by its
/// PID when the fixture goes away.
final class RecordingServer {
    private let scratch: TemporaryDirectory
    private let process: ChildProcess
    let port: Int

    var url: String { "http://127.0.0.1:\(port)/hook" }

    static let script = #"""
        import http.server, json, os, sys, time
        directory, status, fail_event, delay = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
        count = 0

        class Recorder(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                global count
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                count += 1
                name = "%s/%04d" % (directory, count)
                with open(name + ".tmp", "wb") as f:
                    f.write(json.dumps({"method": self.command, "path": self.path,
                                        "contentType": self.headers.get("Content-Type")}).encode() + b"\n" + body)
                os.rename(name + ".tmp", name + ".request")
                if delay:
                    time.sleep(delay)
                code = status
                try:
                    if fail_event and json.loads(body).get("event") == fail_event:
                        code = 500
                except Exception:
                    pass
                reply = json.dumps({"received": True, "count": count}).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
        with open(directory + "/port.tmp", "w") as f:
            f.write(str(server.server_port))
        os.rename(directory + "/port.tmp", directory + "/port")
        server.serve_forever()
        """#

    init(status: Int = 200, failEvent: String = "", delay: Double = 0) throws {
        scratch = try TemporaryDirectory(prefix: "pixelhook-client")
        try scratch.write("server.py", RecordingServer.script)
        process = try ChildProcess(try InstalledTool.path("python3"), [scratch.path + "/server.py", scratch.path, String(status), failEvent, String(delay)],
                                   environment: Run.environment())
        let deadline = Date().addingTimeInterval(10)
        while scratch.read("port") == nil, process.isRunning, Date() < deadline { usleep(10_000) }
        guard let text = scratch.read("port"), let port = Int(text) else {
            process.kill()
            throw FixtureError("the python3 recording server did not start")
        }
        self.port = port
    }

    deinit { process.kill() }

    /// One request as received.
    struct Request {
        let method: String
        let path: String
        let contentType: String?
        let body: Data

        var text: String { String(decoding: body, as: UTF8.self) }
        var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] }
    }

    /// Every request so far, in arrival order.
    var requests: [Request] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: scratch.path)) ?? [])
            .filter { $0.hasSuffix(".request") }.sorted()
        return names.compactMap { name in
            guard let data = FileManager.default.contents(atPath: scratch.path + "/" + name),
                  let newline = data.firstIndex(of: 0x0A),
                  let head = (try? JSONSerialization.jsonObject(with: data[..<newline])) as? [String: Any]
            else { return nil }
            return Request(method: head["method"] as? String ?? "", path: head["path"] as? String ?? "",
                           contentType: head["contentType"] as? String, body: Data(data[(newline + 1)...]))
        }
    }
}
