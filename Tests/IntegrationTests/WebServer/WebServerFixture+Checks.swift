import Foundation
import PixelhookTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// What the storage-fault and hostile-request suites add to the fixture: checks that nothing crashed and nothing was written where it must not be.
extension WebServerFixture {
    /// Every path below the fixture's directory outside the places the fixture itself writes
    /// (spool, curl's request files, server logs and state), relative to the directory.
    func filesOutsideSpool() -> Set<String> {
        let ownedByFixture = [spool, directory + "/requests", logDirectory, runDirectory, directory + "/nginx"]
        var found: Set<String> = []
        guard let walker = FileManager.default.enumerator(atPath: directory) else { return found }
        while let relative = walker.nextObject() as? String {
            let full = directory + "/" + relative
            if ownedByFixture.contains(where: { full == $0 || full.hasPrefix($0 + "/") }) {
                walker.skipDescendants()
                continue
            }
            found.insert(relative)
        }
        return found
    }

    /// Bytes used by the files below `path` (apparent sizes).
    static func bytes(under path: String) -> Int {
        var total = 0
        let walker = FileManager.default.enumerator(atPath: path)
        while let relative = walker?.nextObject() as? String {
            var info = Glibc.stat()
            if lstat(path + "/" + relative, &info) == 0 { total += Int(info.st_size) }
        }
        return total
    }

    /// No reply a web server makes up when pixelhook fails (500 without pixelhook's JSON, 502
    /// bad gateway, 504 timeout), and the FastCGI responder that serves, if any, is the same live
    /// process (its supervising parent would have replaced one that died).
    func expectNoCrash(_ replies: [HTTPReply], responder: pid_t?, sourceLocation: SourceLocation = #_sourceLocation) {
        for reply in replies {
            // pixelhook's own 5xx always carry its JSON; nginx's and lighttpd's never do.
            let madeUp = reply.status == 0 || reply.status == 502 || reply.status == 504
                || (reply.status >= 500 && reply.json == nil)
            #expect(!madeUp, "\(gateway): not an answer from pixelhook: \(reply)", sourceLocation: sourceLocation)
        }
        if let responder {
            #expect(ProcTable.isAlive(responder) && servingResponderPID(timeout: 0) == responder,
                    "\(gateway): the FastCGI responder \(responder) is gone", sourceLocation: sourceLocation)
        }
    }
}
