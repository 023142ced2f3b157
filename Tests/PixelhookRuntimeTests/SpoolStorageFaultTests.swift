import Foundation
import Testing
import PixelhookCore
import SystemPackage
@testable import PixelhookRuntime
import PixelhookTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// `Spool.store` when the disk fails under it: a full tmpfs (ENOSPC) and a read-only one
/// (EROFS) are a `StorageError` naming the cause, leave no payload or temporary file, and the
/// next store after the fault succeeds. Also `gc` removing a build directory while a store
/// writes into it.
@Suite(.serialized, .enabled(if: Tmpfs.unavailable == nil, "\(Tmpfs.unavailable ?? "")"))
struct SpoolStorageFaultTests {
    /// A 256 KiB tmpfs of the test's own, unmounted and removed when `body` returns.
    func withTinyDisk(_ body: (Tmpfs) throws -> Void) throws {
        let directory = try TemporaryDirectory(prefix: "pixelhook-disk")
        let disk = try Tmpfs(at: directory.path + "/disk", size: "256k")
        defer {
            disk.unmount()
            directory.remove()
        }
        try body(disk)
    }

    @Test func fullDiskIsAStorageErrorAndLeavesNothingHalfWritten() throws { try withTinyDisk { disk in
        let spool = Spool(root: disk.path + "/spool")
        #expect(try spool.store(try delivery(payload(uploadId: "u1"))) == .stored)

        try disk.fill()
        for body in [payload(uploadId: "u2"), payload(event: "build.rejected", uploadId: "u1")] {
            do {
                _ = try spool.store(try delivery(body))
                Issue.record("stored on a full disk")
            } catch let error as StorageError {
                #expect(error.errno == .noSpace, "\(error)")
                #expect(error.description.contains("No space left on device"), "\(error)")
            }
        }
        let files = (FileManager.default.enumerator(atPath: SpoolLayout(root: disk.path + "/spool").deliveries)?.allObjects as? [String] ?? []).sorted()
        #expect(files.filter { $0.hasSuffix(SpoolLayout.payloadSuffix) } == ["p1/u1/build.approved.json"], "\(files)")
        #expect(!files.contains { ($0 as NSString).lastPathComponent.hasPrefix(SpoolLayout.temporaryPrefix) }, "\(files)")
        #expect(try spool.store(try delivery(payload(uploadId: "u1"))) == .duplicate)

        disk.free()
        #expect(try spool.store(try delivery(payload(uploadId: "u2"))) == .stored)
        #expect(try spool.store(try delivery(payload(event: "build.rejected", uploadId: "u1"))) == .stored)
        #expect(FileManager.default.contents(atPath: SpoolLayout(root: disk.path + "/spool").payloadPath(DeliveryKey(project: "p1", build: "u2", event: "build.approved")))
                == Data(payload(uploadId: "u2")))
    } }

    @Test func readOnlySpoolIsAStorageErrorAndAProblemUntilRemountedWritable() throws { try withTinyDisk { disk in
        let spool = Spool(root: disk.path + "/spool")
        #expect(try spool.store(try delivery(payload(uploadId: "u1"))) == .stored)

        try disk.remount(readOnly: true)
        #expect(throws: StorageError.self) { try spool.store(try delivery(payload(uploadId: "u2"))) }
        do {
            _ = try spool.store(try delivery(payload(event: "build.rejected", uploadId: "u1")))
            Issue.record("stored on a read-only spool")
        } catch let error as StorageError {
            #expect(error.errno == .readOnlyFileSystem, "\(error)")
        }
        #expect(spool.problem()?.contains("Read-only file system") == true, "\(String(describing: spool.problem()))")

        try disk.remount(readOnly: false)
        #expect(spool.problem() == nil)
        #expect(try spool.store(try delivery(payload(uploadId: "u2"))) == .stored)
    } }

    /// `gc` removes a build whose deliveries are all old (holding the build's lock, which
    /// `store` does not take) while a request stores a new event of that build: the directory
    /// can vanish between `store` seeing it and writing into it. A store must not fail for it
    /// (a 503 for an event the sender never sends again). Rounds of 40 builds, each with one
    /// old delivery, collected while a new event of each is stored.
    @Test func gcRemovingAnOldBuildDoesNotFailAConcurrentStore() throws {
        let scratch = try ScratchSpool()
        let spool = Spool(root: scratch.spool)
        try spool.prepare()
        let day = 86_400
        var failures: [String] = []
        var round = 0
        let deadline = Date().addingTimeInterval(1.5)
        while Date() < deadline, failures.isEmpty {
            round += 1
            let builds = (1...40).map { "r\(round)-b\($0)" }
            for build in builds {
                let old = try delivery(payload(event: "build.uploaded", uploadId: build))
                _ = try spool.store(old)
                var times = [timespec(tv_sec: time(nil) - 2 * day, tv_nsec: 0), timespec(tv_sec: time(nil) - 2 * day, tv_nsec: 0)]
                utimensat(AT_FDCWD, spool.layout.payloadPath(old.key), &times, 0)
            }
            let collector = Thread {
                _ = try? SpoolCollector(spool: spool, cutoff: (time(nil) - day) * 1000).run()
            }
            collector.start()
            for build in builds {
                do {
                    _ = try spool.store(try delivery(payload(event: "build.downloading", uploadId: build)))
                } catch {
                    failures.append("round \(round), \(build): \(error)")
                }
            }
            while !collector.isFinished { usleep(1000) }
        }
        #expect(failures.isEmpty, "\(failures) in \(round) rounds")
    }
}

