import Foundation
import Testing
import PixelhookCore
@testable import PixelhookRuntime

/// The read-only mode that tells a duplicate the payload's name is already on disk.
@Suite struct SpoolDurableMarkTests {
    func mode(_ path: String) -> mode_t {
        var info = stat()
        return stat(path, &info) == 0 ? info.st_mode & 0o777 : 0
    }

    @Test func aStoredPayloadIsMarkedOnlyAfterItsSyncs() throws {
        let scratch = try ScratchSpool()
        let spool = Spool(root: scratch.spool)
        let stored = try delivery(payload())
        #expect(try spool.store(stored) == .stored)
        #expect(mode(spool.layout.payloadPath(stored.key)) == Spool.durableMode)
        #expect(try spool.store(stored) == .duplicate)
        #expect(FileManager.default.contents(atPath: spool.layout.payloadPath(stored.key)) == Data(payload()))
    }

    @Test func aDuplicateOfAnUnmarkedPayloadSyncsThenMarksIt() throws {
        let scratch = try ScratchSpool()
        let spool = Spool(root: scratch.spool)
        let stored = try delivery(payload())
        _ = try spool.store(stored)
        // As an older pixelhook left it, or an original still between its link and its syncs.
        #expect(chmod(spool.layout.payloadPath(stored.key), 0o600) == 0)
        #expect(try spool.store(stored) == .duplicate)
        #expect(mode(spool.layout.payloadPath(stored.key)) == Spool.durableMode)
    }
}
