#if canImport(Glibc)
import Glibc
#endif
import CFastCGI
import PixelhookCore

extension FuzzTarget {
    /// The FastCGI record stream as the responder reads it: `FastCGIRecordCheck` decides on the
    /// start; what it accepts libfcgi then reads as a worker does (`FCGX_Accept_r` on a preset
    /// descriptor holding only the checked start, a response, `FCGX_Finish_r`), and the rest is
    /// the body for `FastCGIStdinReader`. libfcgi must accept what the check accepts, and must not
    /// crash on it (an oversized allocation is an AddressSanitizer error in the fuzz build).
    static func fastCGI(_ bytes: [UInt8]) {
        let verdict = FastCGIRecordCheck.check(bytes)
        Invariant.check(FastCGIRecordCheck.check(bytes) == verdict, "the check is not deterministic")
        guard case .complete(let prefixLength) = verdict else {
            if verdict == .incomplete {
                Invariant.check(bytes.count < FastCGIRecordCheck.maximumPrefixBytes, "undecided after \(bytes.count) bytes")
            }
            return
        }
        Invariant.check(prefixLength > 16 && prefixLength <= bytes.count, "prefix length \(prefixLength) of \(bytes.count)")
        // Bytes after the start never change a decision already made.
        Invariant.check(FastCGIRecordCheck.check(bytes + [1, 2, 0, 0, 0, 0, 0, 0]) == verdict, "a byte after the start changed the verdict")

        _ = libfcgiReady
        var pair: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else { return }
        let written = bytes.withUnsafeBytes { write(pair[1], $0.baseAddress, prefixLength) }
        close(pair[1])
        Invariant.check(written == prefixLength, "the socket pair took \(written) of \(prefixLength) bytes")

        var request = FCGX_Request()
        FCGX_InitRequest(&request, -1, 0)  // no listener: libfcgi must not accept anything itself
        request.ipcFd = pair[0]
        request.keepConnection = 1
        let accepted = FCGX_Accept_r(&request)
        Invariant.check(accepted >= 0, "libfcgi refused (\(accepted)) a request the check accepted")
        guard accepted >= 0 else { return }
        Invariant.check(Int(request.requestId) == Int(bytes[2]) << 8 | Int(bytes[3]), "libfcgi read request id \(request.requestId)")
        var names = 0
        var entry = request.envp
        // (A name may hold a NUL byte: libfcgi's C string ends there, "=" and value unseen.)
        while entry?.pointee != nil {
            names += 1
            entry = entry?.successor()
        }
        Invariant.check(names >= 1 && FCGX_GetParam("FCGI_ROLE", request.envp) != nil, "no FCGI_ROLE in the params")

        var rest = bytes[prefixLength...]
        var stdin = FastCGIStdinReader(requestID: Int(request.requestId)) { buffer, count in
            let got = min(count, rest.count)
            rest.withUnsafeBytes { buffer.copyMemory(from: $0.baseAddress!, byteCount: got) }
            rest = rest.dropFirst(got)
            return got
        }
        let body = (try? RequestBody.read(contentLength: nil, limit: 1 << 20) { stdin.read($0, $1) }) ?? []
        Invariant.check(body.count <= bytes.count - prefixLength, "a body longer than the bytes after the start")
        // The response goes nowhere: the client end is closed (SIGPIPE ignored).
        let response = Array("Status: 200 OK\r\nContent-Type: application/json\r\n\r\n{}".utf8)
        response.withUnsafeBytes { _ = FCGX_PutStr($0.baseAddress!.assumingMemoryBound(to: CChar.self), Int32($0.count), request.out) }
        request.keepConnection = 0
        FCGX_Finish_r(&request)
        Invariant.check(request.ipcFd == -1, "libfcgi kept the connection open")
    }

    private static let libfcgiReady: Void = {
        FCGX_Init()
        signal(SIGPIPE, SIG_IGN)
    }()
}
