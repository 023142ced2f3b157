import Foundation
import PixelhookTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

struct ClientFixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A scratch directory for one test, removed when the test is done.
final class Scratch {
    let path: String

    init() throws {
        var template = Array("/tmp/pixelhook-client.XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw ClientFixtureError("mkdtemp: \(String(cString: strerror(errno)))") }
        path = String(cString: made)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func write(_ name: String, _ text: String, mode: mode_t = 0o644) throws {
        try text.write(toFile: path + "/" + name, atomically: true, encoding: .utf8)
        chmod(path + "/" + name, mode)
    }

    func read(_ name: String) -> String? {
        try? String(contentsOfFile: path + "/" + name, encoding: .utf8)
    }

    func lines(_ name: String) -> [String] {
        (read(name) ?? "").split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty }
    }
}

/// What a finished process left: exit status and its output.
struct Finished: CustomStringConvertible {
    let status: Int32
    let stdout: String
    let stderr: String
    let seconds: Double

    var stdoutLines: [String] { stdout.split(separator: "\n").map(String.init) }
    var stderrLines: [String] { stderr.split(separator: "\n").map(String.init) }

    var description: String { "exit \(status), stdout: \(stdout.debugDescription), stderr: \(stderr.debugDescription)" }
}

enum Run {
    /// The `pixelhook` built with these tests (`BuiltBinary`).
    static var binary: String {
        get throws {
            let path = BuiltBinary.path
            guard access(path, X_OK) == 0 else {
                throw ClientFixtureError("\(path) is missing: run swift build --build-tests first")
            }
            return path
        }
    }

    /// A clean environment (nothing of the test runner's PIXELHOOK_* leaks in) plus `extra`.
    static func environment(_ extra: [String: String] = [:]) -> [String: String] {
        ["PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"].merging(extra) { $1 }
    }

    /// Runs `executable` to its end (at most `timeout` seconds), output in files.
    static func process(_ executable: String, _ arguments: [String], environment: [String: String] = environment(),
                        directory: String? = nil, stdin: String? = nil, timeout: Double = 30) throws -> Finished {
        let scratch = try Scratch()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        FileManager.default.createFile(atPath: scratch.path + "/out", contents: nil)
        FileManager.default.createFile(atPath: scratch.path + "/err", contents: nil)
        FileManager.default.createFile(atPath: scratch.path + "/in", contents: Data((stdin ?? "").utf8))
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: scratch.path + "/out"))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: scratch.path + "/err"))
        process.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: scratch.path + "/in"))
        let started = Date()
        try process.run()
        let deadline = started.addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { usleep(5_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw ClientFixtureError("\(executable) \(arguments) still ran after \(timeout) s")
        }
        process.waitUntilExit()
        return Finished(status: process.terminationStatus, stdout: scratch.read("out") ?? "", stderr: scratch.read("err") ?? "",
                        seconds: Date().timeIntervalSince(started))
    }

    static func pixelhook(_ arguments: [String], environment: [String: String] = environment(), stdin: String? = nil,
                          timeout: Double = 30) throws -> Finished {
        try process(try binary, arguments, environment: environment, stdin: stdin, timeout: timeout)
    }

    /// The absolute path of a tool, or a failure (never a skip) naming the package to install.
    static func tool(_ name: String) throws -> String {
        for directory in ["/usr/local/bin", "/usr/bin", "/bin"] where access(directory + "/" + name, X_OK) == 0 {
            return directory + "/" + name
        }
        throw ClientFixtureError("\(name) is not installed: apt-get install \(name)")
    }
}

/// A local HTTP server standing in for a webhook receiver (or Slack): python3's http.server on
/// 127.0.0.1 and a free port it picks itself, recording every request it gets. Answers
/// `status` (500 for a body whose event is `failEvent`), after `delay` seconds. Stopped by its
/// PID when the fixture goes away.
final class RecordingServer {
    private let scratch: Scratch
    private let process = Process()
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
        scratch = try Scratch()
        try scratch.write("server.py", RecordingServer.script)
        process.executableURL = URL(fileURLWithPath: try Run.tool("python3"))
        process.arguments = [scratch.path + "/server.py", scratch.path, String(status), failEvent, String(delay)]
        process.environment = Run.environment()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(10)
        while scratch.read("port") == nil, process.isRunning, Date() < deadline { usleep(10_000) }
        guard let text = scratch.read("port"), let port = Int(text) else {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw ClientFixtureError("the python3 recording server did not start")
        }
        self.port = port
    }

    deinit {
        // SIGKILL: Foundation's Process hands the test runner's blocked signal mask to its
        // children, so a SIGTERM would never arrive and this would wait forever.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

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

/// A free 127.0.0.1 port with nothing listening on it (bound, then closed).
func unusedPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw ClientFixtureError("socket failed") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let ok = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard ok else { throw ClientFixtureError("bind failed") }
    return Int(UInt16(bigEndian: address.sin_port))
}
