import Foundation
import PixelhookCore
@testable import PixelhookRuntime
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Where the config file is looked for, and what is read from it (SPEC "One configuration,
/// found without help"), with the places injected.
@Suite struct ConfigSourceTests {
    @Test func theUsersFileComesBeforeTheSystemsAndANamedOneBeforeBoth() throws {
        let scratch = try ScratchSpool()
        let user = scratch.root + "/home/.config/pixelhook/pixelhook.conf", system = scratch.root + "/etc.conf"
        #expect(ConfigSource.resolve(named: nil, searchPaths: [user, system]) == .notFound(lookedAt: [user, system]))
        try "PIXELHOOK_PROJECT_IDS=system\n".write(toFile: system, atomically: false, encoding: .utf8)
        #expect(ConfigSource.resolve(named: nil, searchPaths: [user, system]) == .found(system))
        try FileManager.default.createDirectory(atPath: scratch.root + "/home/.config/pixelhook", withIntermediateDirectories: true)
        try "PIXELHOOK_PROJECT_IDS=user\n".write(toFile: user, atomically: false, encoding: .utf8)
        #expect(ConfigSource.resolve(named: nil, searchPaths: [user, system]) == .found(user))
        #expect(ConfigSource.resolve(named: system, searchPaths: [user, system]) == .named(system))
        #expect(ConfigSource.resolve(named: "", searchPaths: [user, system]) == .disabled)
        #expect(ConfigSource.searchPaths(home: scratch.root + "/home/") == [user, ConfigSource.systemPath])
        #expect(ConfigSource.searchPaths(home: "") == [ConfigSource.systemPath])
    }

    @Test func theEnvironmentWinsOverTheFoundFile() throws {
        let scratch = try ScratchSpool()
        let file = scratch.root + "/pixelhook.conf"
        try "PIXELHOOK_PROJECT_IDS=from-file\nPIXELHOOK_EVENTS=build.approved\n".write(toFile: file, atomically: false, encoding: .utf8)
        let source = SettingsLoader.source(environment: [:], searchPaths: [file])
        #expect(source == .found(file))
        let settings = try SettingsLoader.load(environment: ["PIXELHOOK_PROJECT_IDS": "from-env"], source: source).get()
        #expect(settings.projectIDs == ["from-env"])
        #expect(settings.events == ["build.approved"])
        // PIXELHOOK_CONFIG set empty: no file at all.
        #expect(SettingsLoader.source(environment: ["PIXELHOOK_CONFIG": ""], searchPaths: [file]) == .disabled)
    }

    @Test func aFileOthersMayWriteIsRefused() throws {
        let scratch = try ScratchSpool()
        let file = scratch.root + "/pixelhook.conf"
        try "PIXELHOOK_PROJECT_IDS=p\n".write(toFile: file, atomically: false, encoding: .utf8)
        for mode: mode_t in [0o666, 0o620] {
            chmod(file, mode)
            let loaded = SettingsLoader.load(environment: [:], source: .found(file))
            #expect(loaded.failureMessage?.hasPrefix("config file \(file) may be changed by other users") == true, "\(loaded)")
        }
        chmod(file, 0o644)
        #expect(SettingsLoader.load(environment: [:], source: .found(file)).failureMessage == nil)
    }

    @Test func passwdAndGroupFilesAreRead() throws {
        let scratch = try ScratchSpool()
        let passwd = scratch.root + "/passwd", group = scratch.root + "/group"
        try """
            root:x:0:0:root:/root:/bin/bash
            broken line
            www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin
            web:x:1033:1000:Web,,,:/home/web:/bin/sh
            """.write(toFile: passwd, atomically: false, encoding: .utf8)
        try """
            adm:x:4:web
            users:x:100:alice,web,bob
            webbish:x:200:webmaster
            """.write(toFile: group, atomically: false, encoding: .utf8)
        #expect(UserAccount.find(uid: 33, passwdFile: passwd) == UserAccount(name: "www-data", uid: 33, gid: 33, home: "/var/www"))
        let web = try #require(UserAccount.find(uid: 1033, passwdFile: passwd))
        #expect(web == UserAccount(name: "web", uid: 1033, gid: 1000, home: "/home/web"))
        #expect(UserAccount.find(uid: 3, passwdFile: passwd) == nil, "uid 3 is not uid 33")
        #expect(web.groups(groupFile: group) == [1000, 4, 100])
    }
}

extension Result where Failure == SettingsError {
    var failureMessage: String? {
        if case .failure(let error) = self { return error.message }
        return nil
    }
}
