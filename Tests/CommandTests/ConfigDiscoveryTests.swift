import Foundation
import PixelhookTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// SPEC "One configuration, found without help", through the built binary run as a user of
/// its own: the home is the password database's, never `$HOME`.
@Suite(.serialized) struct ConfigDiscoveryTests {
    static let userFile = ".config/pixelhook/pixelhook.conf"

    /// A fixture whose directory the throwaway user may enter (to run the binary in it), and
    /// that user, with nothing named: pixelhook looks for the file itself.
    static func fixtureAndUser() throws -> (CommandFixture, ThrowawayUser) {
        let fixture = try CommandFixture()
        chmod(fixture.directory, 0o755)
        let user = try ThrowawayUser(home: fixture.directory + "/home")
        fixture.settings = ["HOME": "/nonexistent"]  // no PIXELHOOK_CONFIG, no other setting
        return (fixture, user)
    }

    static func settings(_ user: ThrowawayUser, extra: String = "") -> String {
        "PIXELHOOK_PROJECT_IDS=from-file\nPIXELHOOK_SPOOL=\(user.home)/spool\nPIXELHOOK_HANDLERS=\(user.home)/handlers\n" + extra
    }

    @Test func theUsersOwnFileIsFoundThroughThePasswordDatabase() throws {
        let (fixture, user) = try Self.fixtureAndUser()
        try user.write(Self.userFile, Self.settings(user))
        try user.write("handlers/default", "#!/bin/sh\n", mode: 0o755)

        let checked = try fixture.run(["check"], environment: ["PIXELHOOK_TOKEN": "s3cret"], launcher: user.launcher)
        #expect(checked.status == 0, "\(checked)")
        #expect(checked.stdout.hasPrefix("ok: config file \(user.home)/\(Self.userFile); 1 project; spool \(user.home)/spool "), "\(checked)")

        // The environment still wins over the file.
        let overridden = try fixture.run(["check"], environment: ["PIXELHOOK_PROJECT_IDS": "a,b", "PIXELHOOK_TOKEN": "s3cret"], launcher: user.launcher)
        #expect(overridden.stdout.contains("; 2 projects;"), "\(overridden)")

        // Commands see the same settings: here the spool the file names, which is not there yet.
        let builds = try fixture.run(["builds"], launcher: user.launcher)
        #expect(builds.status == 74, "\(builds)")
        #expect(builds.stderr == "pixelhook: no spool at \(user.home)/spool (no directory there: nothing stored yet, or the web server's spool is elsewhere); set PIXELHOOK_SPOOL in \(user.home)/\(Self.userFile) (the config file read) or in the environment\n")
    }

    @Test func aFileOthersMayChangeIsRefusedAndAReadableTokenIsAProblem() throws {
        let (fixture, user) = try Self.fixtureAndUser()
        try user.write("handlers/default", "#!/bin/sh\n", mode: 0o755)
        try user.write(Self.userFile, Self.settings(user), mode: 0o664)
        let writable = try fixture.run(["check"], launcher: user.launcher)
        #expect(writable.status == 1)
        #expect(writable.stdout == "problem: settings: config file \(user.home)/\(Self.userFile) may be changed by other users (mode 0664): whoever can write it chooses what runs; chmod go-w \(user.home)/\(Self.userFile)\n", "\(writable)")
        // The same refusal in every mode: a CGI request is a 500, not settings from that file.
        let cgi = try fixture.run([], stdin: "{}", environment: ["GATEWAY_INTERFACE": "CGI/1.1", "REQUEST_METHOD": "POST",
                                                                 "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": "2"],
                                  launcher: user.launcher)
        #expect(cgi.stdout.hasPrefix("Status: 500"), "\(cgi)")
        // The HTTP client gets the short reason; the details go to the web server's error log.
        #expect(cgi.stdout.contains("settings invalid") && !cgi.stdout.contains(user.home), "\(cgi)")
        #expect(cgi.stderr.contains("may be changed by other users"), "\(cgi)")

        try user.write(Self.userFile, Self.settings(user, extra: "PIXELHOOK_TOKEN=secret\n"), mode: 0o644)
        let readable = try fixture.run(["check"], launcher: user.launcher)
        #expect(readable.status == 1)
        #expect(readable.stdout == "problem: config file \(user.home)/\(Self.userFile) holds PIXELHOOK_TOKEN and every user can read it: chmod o-r \(user.home)/\(Self.userFile)\n", "\(readable)")
    }

    /// No user file: the system one. The real /etc/pixelhook is put back as it was.
    @Test func theSystemFileWhenTheUserHasNone() throws {
        let systemConfig = try SystemConfigLock()  // the package test installs /etc/pixelhook too
        defer { withExtendedLifetime(systemConfig) {} }
        let (fixture, user) = try Self.fixtureAndUser()
        try user.write("handlers/default", "#!/bin/sh\n", mode: 0o755)
        let system = "/etc/pixelhook/pixelhook.conf"
        let saved = fixture.directory + "/saved-system.conf"
        let hadFile = FileManager.default.fileExists(atPath: system)
        let hadDirectory = FileManager.default.fileExists(atPath: "/etc/pixelhook")
        if hadFile { try FileManager.default.moveItem(atPath: system, toPath: saved) }
        defer {
            try? FileManager.default.removeItem(atPath: system)
            if hadFile { try? FileManager.default.moveItem(atPath: saved, toPath: system) }
            if !hadDirectory { try? FileManager.default.removeItem(atPath: "/etc/pixelhook") }
        }
        try FileManager.default.createDirectory(atPath: "/etc/pixelhook", withIntermediateDirectories: true)
        try Self.settings(user, extra: "PIXELHOOK_PROJECT_IDS=x,y,z\n").write(toFile: system, atomically: false, encoding: .utf8)
        chmod(system, 0o644)

        let checked = try fixture.run(["check"], environment: ["PIXELHOOK_TOKEN": "s3cret"], launcher: user.launcher)
        #expect(checked.stdout.hasPrefix("ok: config file \(system); 3 projects;"), "\(checked)")
        // The user's own file comes first.
        try user.write(Self.userFile, Self.settings(user))
        #expect(try fixture.run(["check"], environment: ["PIXELHOOK_TOKEN": "s3cret"], launcher: user.launcher).stdout.contains("config file \(user.home)/\(Self.userFile); 1 project;"))
    }
}
