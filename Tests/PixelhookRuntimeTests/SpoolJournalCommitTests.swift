import Foundation
import Testing
import PixelhookCore
import SystemPackage
@testable import PixelhookRuntime
import PixelhookTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// How many journal commits a new delivery costs on a journalled ext4 (`Spool.store`: the body
/// is written, named, then synced, so data, name and new build directory share one commit;
/// syncing before naming took two). Counted from `/proc/fs/jbd2/DEV/info`, which does not
/// depend on the machine's load; the filesystem is a loop image of the test's own, so nothing
/// else writes to it.
@Suite(.serialized, .enabled(if: JournalledDisk.available, "needs root, mkfs.ext4 and a loop device"))
struct SpoolJournalCommitTests {
    @Test func aNewDeliveryTakesOneJournalCommit() throws {
        let disk = try JournalledDisk()
        defer { disk.unmount() }
        let spool = Spool(root: disk.path + "/spool")
        #expect(try spool.store(try delivery(payload(uploadId: "warm-up"))) == .stored)

        let stores = 40
        let before = try disk.commits()
        for index in 0..<stores {
            #expect(try spool.store(try delivery(payload(uploadId: "u\(index)"))) == .stored)
        }
        let perStore = Double(try disk.commits() - before) / Double(stores)
        // 1.0 plus the odd commit jbd2 makes on its own timer; the old order gave 2.0.
        #expect(perStore < 1.5, "\(perStore) journal commits per new delivery")
    }
}

/// A 64 MiB ext4 with a journal, on a loop device, mounted in a temporary directory.
final class JournalledDisk {
    private let base: TemporaryDirectory
    let path: String
    private let image: String
    private let journalInfo: String
    private var mounted = false

    static let available: Bool = {
        guard getuid() == 0, let disk = try? JournalledDisk() else { return false }
        disk.unmount()
        return true
    }()

    init() throws {
        base = try TemporaryDirectory(prefix: "pixelhook-journal")
        path = base.path + "/mnt"
        image = base.path + "/ext4.img"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: image, contents: nil), truncate(image, 64 << 20) == 0 else {
            throw Errno(rawValue: errno)
        }
        try ToolRun.check("/sbin/mkfs.ext4", ["-q", "-F", image])
        try ToolRun.check("/bin/mount", ["-o", "loop", image, path])
        guard let device = JournalledDisk.device(mountedAt: path),
              let info = try? FileManager.default.contentsOfDirectory(atPath: "/proc/fs/jbd2")
                .first(where: { $0.hasPrefix(device + "-") }) else {
            umount2(path, Int32(MNT_DETACH))
            throw Errno.noSuchFileOrDirectory
        }
        journalInfo = "/proc/fs/jbd2/\(info)/info"
        mounted = true
    }

    deinit { unmount() }

    /// Journal transactions committed so far: the first number of jbd2's `info`.
    func commits() throws -> Int {
        let text = try String(contentsOfFile: journalInfo, encoding: .utf8)
        guard let count = text.split(separator: " ").first.flatMap({ Int($0) }) else { throw Errno.ioError }
        return count
    }

    func unmount() {
        guard mounted else { return }
        mounted = false
        umount2(path, Int32(MNT_DETACH))
        base.remove()
    }

    /// `loopN` for the filesystem mounted at `path`, from `/proc/self/mountinfo`.
    private static func device(mountedAt path: String) -> String? {
        guard let table = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return nil }
        for line in table.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count > 4, fields[4] == path, let dash = fields.firstIndex(of: "-"),
                  fields.index(dash, offsetBy: 2) < fields.endIndex else { continue }
            return (String(fields[fields.index(dash, offsetBy: 2)]) as NSString).lastPathComponent
        }
        return nil
    }

}
