#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import PixelhookRuntime

/// Runs the command line like `ParsableCommand.main()`, except that an error is one line on
/// stderr, `pixelhook: MESSAGE (see 'pixelhook COMMAND --help')`, never a usage dump or a Swift
/// type: SPEC "Commands" promises a clear one-line error for bad input. `--help` prints the
/// whole help on stdout as usual.
extension Pixelhook {
    static func runCommandLine(_ arguments: [String] = Array(CommandLine.arguments.dropFirst())) -> Never {
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
            Glibc.exit(0)
        } catch let failure as CommandFailure {
            StandardOutput.write("pixelhook: \(oneLine(failure.description))\n", to: 2)
            Glibc.exit(failure.status.rawValue)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                let text = fullMessage(for: error)  // --help; empty for a plain exit 0
                if !text.isEmpty { StandardOutput.write(text + "\n", to: 1) }
                Glibc.exit(0)
            }
            let message = oneLine(message(for: error))
            if !message.isEmpty {
                StandardOutput.write("pixelhook: \(message)\(helpHint(arguments))\n", to: 2)
            }
            Glibc.exit(code.rawValue)
        }
    }

    /// ` (see 'pixelhook builds --help')` when the first argument names a command.
    static func helpHint(_ arguments: [String]) -> String {
        let names = configuration.subcommands.filter { $0.configuration.shouldDisplay }.map { $0._commandName }
        guard let first = arguments.first, names.contains(first) else { return " (see 'pixelhook --help')" }
        return " (see 'pixelhook \(first) --help')"
    }

    /// Newlines and tabs become spaces; runs of spaces collapse.
    static func oneLine(_ text: String) -> String { text.asOneLine }
}
