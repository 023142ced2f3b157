#if canImport(Glibc)
import Glibc
#endif
import PixelhookCore
import SystemPackage

/// One stored delivery handed to its handler: picks the file, builds the environment, waits
/// for one of the user's handler slots, runs it, keeps its output.
///
/// The handler holds the build's lock and its slot too (fd 3 and 4), so that neither is let go
/// while it runs, even if this process is killed. Whatever it leaves running would hold them
/// as well: this process stops all of that before it lets either go
/// (`HandlerProcess.stopLeftovers`).
struct HandlerRun {
    let spool: Spool
    let settings: Settings
    let delivery: StoredDelivery
    /// The build's lock, held by the handler too (see `HandlerProcess.inheritedLocks`).
    var buildLock: Int32?
    /// Which attempt of the delivery this run is, noted in `EVENT.running`.
    var attemptNumber = 1

    func run() throws(StorageError) -> HandlerResult {
        let startedAt = Clock.iso8601()
        let started = Syscalls.monotonicSeconds()
        func result(_ state: HandlerResult.State, handler: String?, detail: String? = nil,
                    outcome: HandlerProcess.Outcome? = nil) -> HandlerResult {
            HandlerResult(
                state: state, handler: handler, exitCode: outcome?.exitCode, signal: outcome?.signal,
                startedAt: startedAt, durationMs: Int((Syscalls.monotonicSeconds() - started) * 1000),
                outputBytes: outcome?.outputBytes ?? 0, outputTruncated: (outcome?.outputBytes ?? 0) > (outcome?.output.count ?? 0),
                detail: detail)
        }

        let body = try readPayload()
        guard let envelope = try? EnvelopeParser.parse(body) else {
            return result(.failed, handler: nil, detail: "stored payload no longer parses")
        }
        let handler: String
        switch HandlersDirectory(path: settings.handlers).handler(for: envelope.event) {
        case .none:
            return result(.done, handler: nil, detail: "no handler for \(envelope.event) and no default")
        case .unusable(let file, let reason):
            return result(.failed, handler: file, detail: reason)
        case .runnable(let file):
            handler = file
        }

        let slots: HandlerSlots
        do {
            slots = try HandlerSlots.user(count: settings.maxHandlers)
        } catch {
            // Said loudly: on stderr (`handle`, `retry`), in `SPOOL/alarms.log` and the result
            // (a detached runner's stderr is /dev/null), and by `check`.
            AlarmLog.raise("pixelhook: \(error)", spoolRoot: spool.root)
            return result(.failed, handler: handler, detail: error.description)
        }
        let slot = try slots.acquire()
        var process = HandlerProcess(
            executable: handler, payloadPath: delivery.payloadPath,
            environment: HandlerRun.environment(for: envelope, delivery: delivery),
            workingDirectory: settings.handlers, timeoutSeconds: Double(settings.handlerTimeoutSeconds),
            inheritedLocks: (buildLock.map { [$0] } ?? []) + [slot.descriptor])
        let runner = ProcessIdentity.of(getpid())
        process.started = { [delivery, attemptNumber] pid in
            // Read by `retry` only if this process dies before the handler's group does.
            guard let runner, let leader = ProcessIdentity.of(pid) else { return }
            RunningMarker(runner: runner, handler: leader, startedAt: Clock.milliseconds(), attempt: attemptNumber)
                .write(delivery.runningPath)
        }
        let outcome: HandlerProcess.Outcome
        do {
            outcome = try process.run()
        } catch {
            unlink(delivery.runningPath)
            slot.release()
            return result(.failed, handler: handler, detail: error.description)
        }
        unlink(delivery.runningPath)
        slot.release()
        try? keepOutput(outcome.output)

        if outcome.timedOut {
            return result(.timeout, handler: handler, detail: "stopped after \(settings.handlerTimeoutSeconds) s", outcome: outcome)
        }
        switch outcome.exitCode {
        case 0: return result(.done, handler: handler, outcome: outcome)
        case Int(ExitStatus.retry.rawValue): return result(.retry, handler: handler, detail: "exit 75: asked for a retry", outcome: outcome)
        case let code?: return result(.failed, handler: handler, detail: "exit \(code)", outcome: outcome)
        case nil: return result(.failed, handler: handler, detail: "killed by signal \(outcome.signal ?? 0)", outcome: outcome)
        }
    }

    /// Exactly the SPEC's allow-list: nothing from the web server, the request or pixelhook.
    /// Values longer than `execve` takes are cut when spawned (`ExecEnvironment`).
    static func environment(for envelope: Envelope, delivery: StoredDelivery) -> [String: String] {
        [
            "PIXELHOOK_EVENT": envelope.event,
            "PIXELHOOK_PROJECT_ID": envelope.projectId,
            "PIXELHOOK_UPLOAD_ID": envelope.uploadId ?? "",
            "PIXELHOOK_FILE_URL": envelope.fileUrl ?? "",
            "PIXELHOOK_STATUS": envelope.status,
            "PIXELHOOK_OBJECTION": envelope.objection ?? "",
            "PIXELHOOK_TIMESTAMP": envelope.timestamp,
            "PIXELHOOK_PAYLOAD": delivery.payloadPath,
            "PIXELHOOK_DELIVERY": delivery.id,
        ].merging(ExecEnvironment.base, uniquingKeysWith: { $1 })
    }

    private func readPayload() throws(StorageError) -> [UInt8] {
        try attempt("read", delivery.payloadPath) { try FileContents.read(delivery.payloadPath) }
    }

    /// A handler that printed nothing leaves no file: one inode fewer per delivery, and the
    /// queue removed any older run's output before this run started.
    private func keepOutput(_ output: [UInt8]) throws {
        guard !output.isEmpty else { return }
        let fd = try FileDescriptor.open(delivery.outputPath, .writeOnly,
                                         options: [.create, .truncate, .closeOnExec], permissions: [.ownerReadWrite])
        try fd.closeAfter { _ = try fd.writeAll(output) }
    }
}
