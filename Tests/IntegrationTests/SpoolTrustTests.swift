import Foundation
import PixelhookTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A spool another user owns or may write to is refused, as sshd (StrictModes) and cron refuse
/// such files: a neighbour could plant deliveries whose handlers run as pixelhook's user. The
/// HTTP client learns a short reason, never the spool's path or its owner.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct SpoolTrustTests {
    enum Weakness: String, CaseIterable, CustomTestStringConvertible {
        case worldWritable, groupWritable, ownedByNobody
        var testDescription: String { rawValue }

        func apply(to path: String) throws {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
            switch self {
            case .worldWritable: chmod(path, 0o777)
            case .groupWritable: chmod(path, 0o770)
            case .ownedByNobody:
                guard let nobody = getpwnam("nobody") else { throw FixtureError("no user nobody on this host") }
                chown(path, nobody.pointee.pw_uid, nobody.pointee.pw_gid)
            }
        }
    }

    static let cases = Gateway.allCases.flatMap { gateway in Weakness.allCases.map { (gateway, $0) } }

    @Test("A spool others may write to, or another user owns: POST 503, health 503, no path in the answer",
          arguments: cases)
    func weakSpoolRefused(_ gateway: Gateway, _ weakness: Weakness) throws {
        let server = try WebServerFixture(gateway) { directory in try weakness.apply(to: directory + "/spool") }
        try server.writeRecorder(named: "build.approved")
        let post = try server.post(Payloads.seed("build.approved"))
        #expect(post.status == 503, "\(post)")
        #expect(post.json?["error"] == .string("storage"), "\(post)")
        #expect(post.json?["reason"]?.string?.hasPrefix("spool refused") == true, "\(post)")
        #expect(server.storedDeliveries.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: server.spool + "/requests.log"), "nothing written into it")

        let health = try server.request("GET")
        #expect(health.status == 503, "\(health)")
        #expect(health.json?["ok"] == false, "\(health)")
        for reply in [post, health] {
            let text = String(decoding: reply.body, as: UTF8.self)
            #expect(!text.contains(server.directory) && !text.contains("nobody") && !text.contains("root"), "\(reply)")
        }
        #expect(server.runs.isEmpty)
    }
}
