#if canImport(Glibc)
import Glibc
#endif
import PixelhookCore
import SystemPackage

/// Settings from the process environment (and per-request parameters), with the config file
/// named by `PIXELHOOK_CONFIG` underneath them.
public enum SettingsLoader {
    public static func load(
        environment: [String: String], overrides: [String: String] = [:], configPath: String? = nil
    ) -> Result<Settings, SettingsError> {
        do throws(SettingsError) {
            var file: [String: String] = [:]
            let path = configPath ?? overrides[Settings.Key.config] ?? environment[Settings.Key.config]
            if let path, !path.isEmpty { file = try ConfigFile.parse(readConfig(path)) }
            return .success(try Settings.parse(Settings.merge(file, environment, overrides)))
        } catch {
            return .failure(error)
        }
    }

    static func readConfig(_ path: String) throws(SettingsError) -> String {
        do {
            let fd = try FileDescriptor.open(path, .readOnly, options: [.closeOnExec])
            return try fd.closeAfter {
                var bytes: [UInt8] = []
                var chunk = [UInt8](repeating: 0, count: 8192)
                while true {
                    let count = try chunk.withUnsafeMutableBytes { try fd.read(into: $0) }
                    if count == 0 { break }
                    bytes += chunk[0..<count]
                    guard bytes.count <= 1 << 20 else { throw SettingsError("config file \(path) is larger than 1 MiB") }
                }
                return String(decoding: bytes, as: UTF8.self)
            }
        } catch let error as SettingsError {
            throw error
        } catch {
            throw SettingsError("cannot read config file \(path): \(error)")
        }
    }
}

/// The process environment as a dictionary, without Foundation's `ProcessInfo`.
public enum ProcessEnvironment {
    public static func current() -> [String: String] {
        var variables: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                variables[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            pointer += 1
        }
        return variables
    }
}
