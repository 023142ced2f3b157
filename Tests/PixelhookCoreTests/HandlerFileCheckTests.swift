import Testing
@testable import PixelhookCore

@Suite("HandlerFileCheck")
struct HandlerFileCheckTests {
    typealias File = HandlerFileCheck.File

    static func problems(_ files: [File]) -> [String] { HandlerFileCheck.problems(files, directory: "/h") }

    @Test("runnable handlers and support files are fine")
    func fine() {
        let files = [
            File(name: "build.approved", kind: .regular, isExecutable: true),
            File(name: "default", kind: .regular, isExecutable: true),
            File(name: "webhook.test", kind: .regular, isExecutable: true),
            File(name: "handlers.env", kind: .regular, isExecutable: false),
            File(name: "README.md", kind: .regular, isExecutable: false),
            File(name: "lib", kind: .directory, isExecutable: true),
            File(name: ".git", kind: .directory, isExecutable: true),
        ]
        #expect(Self.problems(files).isEmpty)
    }

    @Test("a handler that cannot be run is named")
    func unrunnable() {
        let problems = Self.problems([
            File(name: "build.saving", kind: .directory, isExecutable: true),
            File(name: "build.approved", kind: .regular, isExecutable: false),
            File(name: "default", kind: .other("a broken symbolic link"), isExecutable: false),
        ])
        #expect(problems == [
            "/h/build.approved is not executable: its deliveries fail (chmod +x /h/build.approved)",
            "/h/build.saving is a directory, not a program: its deliveries fail",
            "/h/default is a broken symbolic link, not a program: its deliveries fail",
        ])
    }

    @Test("a name that is no event is a likely typo", arguments: [
        ("build.aproved", "did you mean build.approved?"),
        ("Build.Approved", "did you mean build.approved?"),
        ("approved", "did you mean build.approved?"),
        ("defualt", "did you mean default?"),
        ("webhook.tset", "did you mean webhook.test?"),
        ("build.finished", "handlers are named after an event, or default"),
    ])
    func typo(name: String, hint: String) {
        let problems = Self.problems([File(name: name, kind: .regular, isExecutable: false)])
        #expect(problems == ["/h/\(name) is never run: \(name) is not an event pixelhook knows (\(hint))"])
    }

    @Test("an executable of any other name is never run either")
    func strayExecutable() {
        #expect(Self.problems([File(name: "deploy.sh", kind: .regular, isExecutable: true)]).count == 1)
        #expect(Self.problems([File(name: "deploy.sh", kind: .regular, isExecutable: false)]).isEmpty)
    }

    @Test("suggestions stay close")
    func suggestions() {
        #expect(HandlerFileCheck.suggestion(for: "build.approvd") == "build.approved")
        #expect(HandlerFileCheck.suggestion(for: "handlers.env") == nil)
        #expect(HandlerFileCheck.suggestion(for: "deploy") == nil)
    }
}
