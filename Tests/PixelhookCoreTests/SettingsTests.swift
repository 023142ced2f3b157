import Testing
@testable import PixelhookCore

@Suite("Settings")
struct SettingsTests {
    typealias Key = Settings.Key

    // MARK: Defaults

    @Test("no variables: the documented defaults, project ids and token unset")
    func defaults() throws {
        let settings = try Settings.parse([:])
        #expect(settings.spool == "/var/spool/pixelhook")
        #expect(settings.handlers == "/etc/pixelhook/handlers")
        #expect(settings.projectIDs == nil)
        #expect(settings.token == nil)
        #expect(settings.events == nil)
        #expect(settings.maxBody == 65536)
        #expect(settings.handlerTimeoutSeconds == 600)
        #expect(settings.maxHandlers == 4)
    }

    @Test("unrelated variables are ignored")
    func unrelatedIgnored() throws {
        let settings = try Settings.parse(["PATH": "/bin", "HTTP_X": "1", "pixelhook_spool": "/x"])
        #expect(settings == Settings())
    }

    // MARK: Each variable

    @Test("each variable is read")
    func everyVariable() throws {
        let settings = try Settings.parse([
            Key.spool: "/srv/spool",
            Key.handlers: "/srv/handlers",
            Key.projectIDs: "p1,p2",
            Key.token: "s3cret",
            Key.events: "build.approved,build.rejected",
            Key.maxBody: "1024",
            Key.handlerTimeout: "30",
            Key.maxHandlers: "8",
        ])
        #expect(settings.spool == "/srv/spool")
        #expect(settings.handlers == "/srv/handlers")
        #expect(settings.projectIDs == ["p1", "p2"])
        #expect(settings.token == "s3cret")
        #expect(settings.events == ["build.approved", "build.rejected"])
        #expect(settings.maxBody == 1024)
        #expect(settings.handlerTimeoutSeconds == 30)
        #expect(settings.maxHandlers == 8)
    }

    @Test("an empty or blank value means unset", arguments: ["", " ", "\t", " \t "])
    func emptyMeansUnset(value: String) throws {
        let all = [Key.spool, Key.handlers, Key.projectIDs, Key.token, Key.events,
                   Key.maxBody, Key.handlerTimeout, Key.maxHandlers]
        let settings = try Settings.parse(Dictionary(uniqueKeysWithValues: all.map { ($0, value) }))
        #expect(settings == Settings())
        #expect(settings.token == nil)
        #expect(settings.projectIDs == nil)
    }

    @Test("comma lists are trimmed and empty items dropped")
    func listsTrimmed() throws {
        let settings = try Settings.parse([
            Key.projectIDs: " p1 , p2,,\tp3 ,",
            Key.events: "build.approved ,  webhook.test",
        ])
        #expect(settings.projectIDs == ["p1", "p2", "p3"])
        #expect(settings.events == ["build.approved", "webhook.test"])
    }

    @Test("scalar values are trimmed")
    func scalarsTrimmed() throws {
        let settings = try Settings.parse([
            Key.spool: "  /srv/spool ", Key.token: " tok\t", Key.maxBody: " 2048 ",
        ])
        #expect(settings.spool == "/srv/spool")
        #expect(settings.token == "tok")
        #expect(settings.maxBody == 2048)
    }

    @Test("whitespace trimming removes spaces, tabs, CR and LF, including a CRLF pair", arguments: [
        (" a ", "a"), ("\ta\t", "a"), ("a\n", "a"), ("a\r", "a"), ("a\r\n", "a"), ("\r\na b\r\n", "a b"),
        ("\r\n", ""), ("", ""), ("a\u{A0}", "a\u{A0}"),
    ])
    func trimming(text: String, expected: String) {
        #expect(text.trimmingWhitespace() == expected)
    }

    @Test("a value with a trailing CRLF is read without it")
    func trailingCRLF() throws {
        let settings = try Settings.parse([Key.token: "tok\r\n", Key.projectIDs: "p1,p2\r\n", Key.maxBody: "100\r\n"])
        #expect(settings.token == "tok")
        #expect(settings.projectIDs == ["p1", "p2"])
        #expect(settings.maxBody == 100)
    }

    @Test("integer bounds are inclusive", arguments: [
        (Key.maxBody, "1"), (Key.maxBody, String(64 << 20)),
        (Key.handlerTimeout, "1"), (Key.handlerTimeout, "86400"),
        (Key.maxHandlers, "1"), (Key.maxHandlers, "256"),
    ])
    func integerBounds(key: String, value: String) throws {
        let settings = try Settings.parse([key: value])
        let read = switch key {
        case Key.maxBody: settings.maxBody
        case Key.handlerTimeout: settings.handlerTimeoutSeconds
        default: settings.maxHandlers
        }
        #expect(read == Int(value))
    }

    // MARK: Errors

    @Test("bad or out-of-range integers throw an error naming the variable", arguments: [
        Key.maxBody, Key.handlerTimeout, Key.maxHandlers,
    ], [
        "abc", "0", "-1", "1.5", "12kb", "0x10", "99999999999999999999999", "1 000",
    ])
    func badInteger(key: String, value: String) throws {
        let error = try #require(Fixture.settingsError([key: value]))
        #expect(error.message.hasPrefix(key))
        #expect(error.message.contains("got \(value)"))
        #expect(error.description == error.message)
    }

    @Test("values just past the upper bound are refused", arguments: [
        (Key.maxBody, String((64 << 20) + 1)), (Key.handlerTimeout, "86401"), (Key.maxHandlers, "257"),
    ])
    func pastUpperBound(key: String, value: String) throws {
        let error = try #require(Fixture.settingsError([key: value]))
        #expect(error.message.hasPrefix(key))
        #expect(error.message.contains(value))
    }

    @Test("relative paths are refused, naming the variable",
          arguments: [Key.spool, Key.handlers], ["spool", "./spool", "../etc", "~/spool"])
    func relativePath(key: String, value: String) throws {
        let error = try #require(Fixture.settingsError([key: value]))
        #expect(error.message.hasPrefix(key))
        #expect(error.message.contains("absolute path"))
        #expect(error.message.contains(value))
    }

    // MARK: Configuration problem

    @Test("PIXELHOOK_PROJECT_IDS unset is the configuration problem")
    func projectIDsUnset() throws {
        #expect(try Settings.parse([:]).configurationProblem == "PIXELHOOK_PROJECT_IDS is not set")
        #expect(try Settings.parse([Key.projectIDs: ""]).configurationProblem == "PIXELHOOK_PROJECT_IDS is not set")
        #expect(try Settings.parse([Key.projectIDs: "p1"]).configurationProblem == nil)
    }

    // MARK: Merge

    @Test("merge: later sources win")
    func mergeLaterWins() {
        let file = [Key.spool: "/file", Key.token: "file-token", Key.maxBody: "10"]
        let environment = [Key.spool: "/env", Key.token: "env-token"]
        let request = [Key.spool: "/request"]
        let merged = Settings.merge(file, environment, request)
        #expect(merged == [Key.spool: "/request", Key.token: "env-token", Key.maxBody: "10"])
        // Order matters: reversed, the file wins.
        #expect(Settings.merge(request, environment, file)[Key.spool] == "/file")
    }

    @Test("merge: keys without the PIXELHOOK_ prefix are dropped")
    func mergeDropsOthers() {
        let merged = Settings.merge(
            ["PATH": "/bin", Key.spool: "/a"],
            ["HTTP_PIXELHOOK_TOKEN": "evil", "pixelhook_token": "evil", "QUERY_STRING": "x"]
        )
        #expect(merged == [Key.spool: "/a"])
    }

    @Test("merge of nothing is empty")
    func mergeNothing() {
        #expect(Settings.merge().isEmpty)
        #expect(Settings.merge([:], [:]).isEmpty)
    }

    // MARK: Round trip

    static let roundTripCases: [[String: String]] = [
        [:],
        [Key.projectIDs: "p1"],
        [Key.spool: "/srv/spool", Key.handlers: "/srv/h", Key.projectIDs: "b, a ,c", Key.token: "t0k",
         Key.events: "build.approved,webhook.test", Key.maxBody: "1", Key.handlerTimeout: "86400",
         Key.maxHandlers: "256"],
    ]

    @Test("variables round-trip through parse", arguments: roundTripCases)
    func roundTrip(variables: [String: String]) throws {
        let settings = try Settings.parse(variables)
        let written = settings.variables
        #expect(try Settings.parse(written) == settings)
        #expect(written.keys.allSatisfy { Key.all.contains($0) && $0 != Key.config })
    }

    @Test("variables writes lists sorted and omits unset values")
    func variablesShape() throws {
        let settings = try Settings.parse([Key.projectIDs: "b,a", Key.events: "z,y"])
        let written = settings.variables
        #expect(written[Key.projectIDs] == "a,b")
        #expect(written[Key.events] == "y,z")
        #expect(written[Key.token] == nil)
        #expect(written[Key.maxBody] == "65536")
        #expect(try Settings.parse([:]).variables[Key.projectIDs] == nil)
    }
}
