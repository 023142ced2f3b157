#if canImport(Glibc)
import Glibc
#endif
import PixelhookCore

/// What `pixelhook show DELIVERY` prints, for `pixelhook` (this host's spool) and for
/// `pixelhook-cluster` (the cluster's copy, in cluster mode): the payload, the handler's last
/// result field by field, the handler's output; each safe to print on a terminal.
public enum DeliveryText {
    public static let payloadLimit = 1 << 20
    /// The runner keeps at most 64 KiB of output; a little more never hurts.
    public static let outputLimit = 1 << 17

    /// Why this host's spool cannot show a delivery.
    public enum Problem: Error {
        /// No such payload: the message names the spool.
        case missing(String)
        /// It is there but cannot be read: the message says why.
        case unreadable(String)
    }

    /// `pixelhook show`'s text for a delivery of this host's spool.
    public static func local(_ key: DeliveryKey, spool: Spool) -> Result<String, Problem> {
        let stored = StoredDelivery(directory: spool.layout.buildDirectory(key), event: key.event)
        let payload: [UInt8]
        switch read(stored.payloadPath, limit: payloadLimit) {
        case .missing:
            return .failure(.missing("no delivery \(key.id) in \(spool.layout.deliveries) (`pixelhook builds --json` lists the ids)"))
        case .failed(let error):
            return .failure(.unreadable("cannot read \(stored.payloadPath): \(String(cString: strerror(error)))"))
        case .read(let bytes):
            payload = bytes
        }
        var text = "delivery  \(key.id)\n"
        if let received = stored.receivedAt() { text += "stored    \(EpochTime.iso8601(milliseconds: received))\n" }
        text += "payload   \(stored.payloadPath)\n" + payloadText(payload)
        text += "\nresult    \(stored.resultPath)\n" + resultText(of: stored)
        text += "\n" + outputText(of: stored)
        return .success(text)
    }

    /// The payload, cut at `payloadLimit`, ending with a newline.
    public static func payloadText(_ payload: [UInt8]) -> String {
        let shown = Array(payload.prefix(payloadLimit))
        var text = printable(shown)
        if shown.last != UInt8(ascii: "\n") { text += "\n" }
        if payload.count >= payloadLimit { text += "(payload cut at \(payloadLimit >> 10) KiB)\n" }
        return text
    }

    /// The lines of a delivery's local result file, or what stands for it.
    public static func resultText(of stored: StoredDelivery) -> String {
        switch read(stored.resultPath, limit: 1 << 20) {
        case .read(let bytes): resultLines(bytes)
        case .missing: "  none yet: queued, running, or its runner died (`pixelhook retry` runs it)\n"
        case .failed(let error): "  cannot be read: \(String(cString: strerror(error)))\n"
        }
    }

    /// `output    PATH` and the handler's output, or why there is none.
    public static func outputText(of stored: StoredDelivery) -> String {
        switch read(stored.outputPath, limit: outputLimit) {
        case .read(let bytes):
            var text = "output    \(stored.outputPath)\n\(printable(bytes))"
            if bytes.last != UInt8(ascii: "\n") { text += "\n" }
            return text
        case .missing:
            return "output    none (the handler printed nothing, or has not run)\n"
        case .failed(let error):
            return "output    \(stored.outputPath) cannot be read: \(String(cString: strerror(error)))\n"
        }
    }

    /// Each member of a stored result, one a line, the usual ones first; members this version
    /// does not know (added later) are shown too.
    public static func resultLines(_ bytes: [UInt8]) -> String {
        guard let members = JSONScanner.scalarMembers(Array(bytes.prefix { $0 != UInt8(ascii: "\n") })) else {
            return "  unreadable (torn by a crash?): counts as not done, `pixelhook retry` runs it\n"
        }
        let order = ["state", "handler", "exitCode", "signal", "attempts", "startedAt", "durationMs", "outputBytes", "outputTruncated", "detail"]
        let names = order.filter { members[$0] != nil } + members.keys.filter { !order.contains($0) }.sorted()
        let width = names.map(\.count).max() ?? 0
        return names.map { name in
            let value: String = switch members[name]! {
            // `gave up`, not `gave_up`, as `builds` and `check` say it.
            case .string(let text) where name == "state": HandlerResult.State(rawValue: text)?.text ?? text
            case .string(let text): text
            case .integer(let number): String(number)
            case .bool(let flag): String(flag)
            case .null: "null"
            case .other: "(a number, list or object)"
            }
            return "  \(name):\(String(repeating: " ", count: width - name.count + 1))\(printable(Array(value.utf8)))\n"
        }.joined()
    }

    public enum FileRead {
        case read([UInt8])
        case missing
        case failed(Int32)
    }

    /// At most `limit` bytes of a file in the spool, never through a symbolic link.
    public static func read(_ path: String, limit: Int) -> FileRead {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        guard fd >= 0 else { return errno == ENOENT ? .missing : .failed(errno) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while bytes.count < limit {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, min($0.count, limit - bytes.count)) }
            if count < 0, errno == EINTR { continue }
            guard count >= 0 else { return .failed(errno) }
            if count == 0 { break }
            bytes += buffer[..<count]
        }
        return .read(bytes)
    }

    /// Bytes shown on a terminal: control characters but newline and tab become `?`, so a
    /// payload or an output cannot move the cursor or recolour the screen.
    public static func printable(_ bytes: [UInt8]) -> String {
        String(String.UnicodeScalarView(String(decoding: bytes, as: UTF8.self).unicodeScalars.map { scalar in
            scalar == "\n" || scalar == "\t" ? scalar
                : (scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) ? "?" : scalar)
        }))
    }
}
