import Testing
@testable import PixelhookCore

@Suite("ConfigFile")
struct ConfigFileTests {
    @Test("KEY=VALUE lines, comments and blank lines")
    func basic() throws {
        let text = """
            # pixelhook settings
            PIXELHOOK_SPOOL=/srv/spool

              # indented comment
            PIXELHOOK_PROJECT_IDS = p1,p2
            \tPIXELHOOK_MAX_BODY=2048\t
            """
        let values = try ConfigFile.parse(text)
        #expect(values == [
            "PIXELHOOK_SPOOL": "/srv/spool",
            "PIXELHOOK_PROJECT_IDS": "p1,p2",
            "PIXELHOOK_MAX_BODY": "2048",
        ])
    }

    @Test("an empty file, or only comments, gives nothing", arguments: ["", "\n\n", "# a\n#b=c\n   \n"])
    func empty(text: String) throws {
        #expect(try ConfigFile.parse(text).isEmpty)
    }

    @Test("an unbalanced quote, or text after the closing one, is an error naming the line", arguments: [
        #"PIXELHOOK_TOKEN="unbalanced"#, #"PIXELHOOK_TOKEN="mixed'"#, #"PIXELHOOK_TOKEN=""#, #"PIXELHOOK_TOKEN="a"b"#,
    ])
    func unbalancedQuotes(line: String) {
        #expect(throws: SettingsError.self) { try ConfigFile.parse("\n" + line) }
        do {
            _ = try ConfigFile.parse("\n" + line)
        } catch {
            #expect(error.message.hasPrefix("config line 2:"))
        }
    }

    @Test("single and double quotes are removed", arguments: [
        (#"PIXELHOOK_TOKEN="a b#c""#, "a b#c"),
        ("PIXELHOOK_TOKEN='a b'", "a b"),
        (#"PIXELHOOK_TOKEN="""#, ""),
        (#"PIXELHOOK_TOKEN="it's""#, "it's"),
        (#"PIXELHOOK_TOKEN='say "hi"'"#, #"say "hi""#),
        (#"PIXELHOOK_TOKEN="abc" # a note"#, "abc"),
        ("PIXELHOOK_TOKEN=abc # a note", "abc"),
        ("PIXELHOOK_TOKEN=a#b", "a#b"),
    ])
    func quotes(line: String, expected: String) throws {
        #expect(try ConfigFile.parse(line)["PIXELHOOK_TOKEN"] == expected)
    }

    @Test("the value keeps everything after the first '='")
    func valueWithEquals() throws {
        #expect(try ConfigFile.parse("PIXELHOOK_TOKEN=a=b==")["PIXELHOOK_TOKEN"] == "a=b==")
    }

    @Test("a leading `export ` is allowed")
    func export() throws {
        let values = try ConfigFile.parse("export PIXELHOOK_SPOOL=/srv/spool\nexport   PIXELHOOK_TOKEN='x'")
        #expect(values == ["PIXELHOOK_SPOOL": "/srv/spool", "PIXELHOOK_TOKEN": "x"])
    }

    @Test("CRLF line endings are tolerated")
    func crlf() throws {
        let values = try ConfigFile.parse("PIXELHOOK_SPOOL=/srv/spool\r\nPIXELHOOK_TOKEN=\"t\"\r\n")
        #expect(values == ["PIXELHOOK_SPOOL": "/srv/spool", "PIXELHOOK_TOKEN": "t"])
    }

    @Test("CRLF: a comment line does not swallow the setting after it")
    func crlfAfterComment() throws {
        let values = try ConfigFile.parse("# secrets\r\nPIXELHOOK_TOKEN=s3cret\r\n")
        #expect(values["PIXELHOOK_TOKEN"] == "s3cret")
    }

    @Test("a later line for the same key wins")
    func laterLineWins() throws {
        #expect(try ConfigFile.parse("PIXELHOOK_TOKEN=a\nPIXELHOOK_TOKEN=b")["PIXELHOOK_TOKEN"] == "b")
    }

    @Test("every setting key is accepted", arguments: [
        Settings.Key.spool, Settings.Key.handlers, Settings.Key.projectIDs, Settings.Key.token,
        Settings.Key.events, Settings.Key.maxBody, Settings.Key.handlerTimeout, Settings.Key.maxHandlers,
    ])
    func everyKey(key: String) throws {
        #expect(try ConfigFile.parse("\(key)=v") == [key: "v"])
    }

    @Test("an unknown key is an error naming the line and the key", arguments: [
        ("PIXELHOOK_SPOL=/x", "PIXELHOOK_SPOL"),
        ("PATH=/bin", "PATH"),
        ("pixelhook_spool=/x", "pixelhook_spool"),
        ("PIXELHOOK_CONFIG=/etc/other.conf", "PIXELHOOK_CONFIG"),
    ])
    func unknownKey(line: String, key: String) throws {
        let text = "# header\nPIXELHOOK_SPOOL=/srv\n\(line)\n"
        let error = try #require(Fixture.configError(text))
        #expect(error.message.contains("line 3"))
        #expect(error.message.contains(key))
    }

    @Test("a line without '=' is an error naming the line", arguments: [
        "PIXELHOOK_SPOOL", "just words", "export PIXELHOOK_SPOOL",
    ])
    func missingEquals(line: String) throws {
        let error = try #require(Fixture.configError("PIXELHOOK_TOKEN=a\n\(line)"))
        #expect(error.message.contains("line 2"))
        #expect(error.message.contains("KEY=VALUE"))
    }

    @Test("an empty key is an error")
    func emptyKey() throws {
        let error = try #require(Fixture.configError("=value"))
        #expect(error.message.contains("line 1"))
    }

    @Test("parsed values feed Settings.parse, and the environment wins in a merge")
    func feedsSettings() throws {
        let file = try ConfigFile.parse("PIXELHOOK_PROJECT_IDS=p1\nPIXELHOOK_MAX_BODY=100\n")
        let settings = try Settings.parse(Settings.merge(file, ["PIXELHOOK_MAX_BODY": "200"]))
        #expect(settings.projectIDs == ["p1"])
        #expect(settings.maxBody == 200)
    }
}
