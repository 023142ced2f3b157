#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import PixelhookCore
import PixelhookRuntime

/// `pixelhook show DELIVERY`: one stored delivery, its handler's result and output (SPEC
/// "Commands"), so that nobody has to dig in the spool as root.
struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show one delivery: its payload, its handler's result, and the handler's output.",
        discussion: """
            DELIVERY is the id `pixelhook builds --json` prints and handlers get in \
            PIXELHOOK_DELIVERY: PROJECT/BUILD/EVENT, such as \
            664f1a2b3c4d5e6f7a8b9c0d/u1/build.approved.

            Prints when the payload was stored and the payload itself; then the handler's \
            last result, every field of it (state: done, failed, timeout, retry, gave up; the handler \
            run, its exit status or signal, when it started, how long it took, the attempts \
            made where recorded, and why), or that there is none yet (queued, running, or its \
            runner died: `pixelhook retry` runs it); then what the handler printed (stdout and \
            stderr together, the first 64 KiB).

            Exit status: 0; 64 for an id that is not of that shape (nothing is looked up); 65 \
            when the spool holds no such delivery; 74 if there is no spool or it cannot be \
            read; 77 if root cannot become the spool's owner; 78 if the settings are invalid.
            """
    )

    @OptionGroup var settings: SettingsOptions

    @Argument(help: ArgumentHelp("The delivery's id, PROJECT/BUILD/EVENT.", valueName: "delivery"))
    var delivery: String

    func validate() throws {
        guard DeliveryKey(id: delivery) != nil else {
            throw ValidationError("not a delivery id: \(Pixelhook.oneLine(String(delivery.prefix(200)))) (expected PROJECT/BUILD/EVENT as `pixelhook builds --json` prints it)")
        }
    }

    func run() throws {
        let settings = try settings.loadExistingSpool()
        let key = DeliveryKey(id: delivery)!
        let spool = Spool(root: settings.spool)
        let stored = StoredDelivery(directory: spool.layout.buildDirectory(key), event: key.event)
        let payload: [UInt8]
        switch Show.read(stored.payloadPath, limit: Show.payloadLimit) {
        case .missing:
            throw CommandFailure(.invalid, "no delivery \(key.id) in \(spool.layout.deliveries) (`pixelhook builds --json` lists the ids)")
        case .failed(let error):
            throw CommandFailure(.storage, "cannot read \(stored.payloadPath): \(String(cString: strerror(error)))")
        case .read(let bytes):
            payload = bytes
        }
        var text = "delivery  \(key.id)\n"
        if let received = stored.receivedAt() { text += "stored    \(EpochTime.iso8601(milliseconds: received))\n" }
        text += "payload   \(stored.payloadPath)\n\(Show.printable(payload))"
        if payload.last != UInt8(ascii: "\n") { text += "\n" }
        if payload.count >= Show.payloadLimit { text += "(payload cut at \(Show.payloadLimit >> 10) KiB)\n" }

        text += "\nresult    \(stored.resultPath)\n"
        switch Show.read(stored.resultPath, limit: 1 << 20) {
        case .read(let bytes):
            text += Show.resultLines(bytes)
        case .missing:
            text += "  none yet: queued, running, or its runner died (`pixelhook retry` runs it)\n"
        case .failed(let error):
            text += "  cannot be read: \(String(cString: strerror(error)))\n"
        }

        switch Show.read(stored.outputPath, limit: Show.outputLimit) {
        case .read(let bytes):
            text += "\noutput    \(stored.outputPath)\n\(Show.printable(bytes))"
            if bytes.last != UInt8(ascii: "\n") { text += "\n" }
        case .missing:
            text += "\noutput    none (the handler printed nothing, or has not run)\n"
        case .failed(let error):
            text += "\noutput    \(stored.outputPath) cannot be read: \(String(cString: strerror(error)))\n"
        }
        StandardOutput.write(text, to: 1)
    }

    static let payloadLimit = 1 << 20
    /// The runner keeps at most 64 KiB of output; a little more never hurts.
    static let outputLimit = 1 << 17

    /// Each member of a stored result, one a line, the usual ones first; members this version
    /// does not know (added later) are shown too.
    static func resultLines(_ bytes: [UInt8]) -> String {
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

    enum FileRead {
        case read([UInt8])
        case missing
        case failed(Int32)
    }

    /// At most `limit` bytes of a file in the spool, never through a symbolic link.
    static func read(_ path: String, limit: Int) -> FileRead {
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
    static func printable(_ bytes: [UInt8]) -> String {
        String(String.UnicodeScalarView(String(decoding: bytes, as: UTF8.self).unicodeScalars.map { scalar in
            scalar == "\n" || scalar == "\t" ? scalar
                : (scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) ? "?" : scalar)
        }))
    }
}
