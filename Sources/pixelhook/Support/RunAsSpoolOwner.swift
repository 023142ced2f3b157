import PixelhookRuntime

/// The commands' side of SPEC "Who runs what" (`SpoolOwner`): started by root on a spool
/// another user owns, become that user, or stop with the one line saying whom to run as.
enum RunAsSpoolOwner {
    /// Returns the user switched to, if any; throws the refusal as exit 77 (EX_NOPERM).
    @discardableResult
    static func become(ownerOf spool: String) throws -> UserAccount? {
        do {
            return try SpoolOwner.become(ownerOf: spool)
        } catch {
            throw CommandFailure(.permission, error.line(rerun: commandLine))
        }
    }

    /// This command as typed, for `sudo -u USER ...`.
    static var commandLine: String {
        (["pixelhook"] + CommandLine.arguments.dropFirst().map(quoted)).joined(separator: " ")
    }

    private static func quoted(_ argument: String) -> String {
        let plain = !argument.isEmpty && argument.unicodeScalars.allSatisfy {
            $0.properties.isAlphabetic || ("0"..."9").contains($0) || "-_./=:,@%+".unicodeScalars.contains($0)
        }
        return plain ? argument : "'" + argument.replacingAll("'", with: #"'\''"#) + "'"
    }
}

private extension String {
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for character in self { if character == target { out += replacement } else { out.append(character) } }
        return out
    }
}
