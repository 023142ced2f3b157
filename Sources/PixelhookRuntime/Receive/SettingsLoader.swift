#if canImport(Glibc)
import Glibc
#endif
import PixelhookCore
import SystemPackage

/// Settings from the process environment (and per-request parameters), with the config file
/// (`ConfigSource`: named, or found at the usual places) underneath them.
public enum SettingsLoader {
    public static func load(
        environment: [String: String], overrides: [String: String] = [:], configPath: String? = nil
    ) -> Result<Settings, SettingsError> {
        load(environment: environment, overrides: overrides,
             source: source(environment: environment, overrides: overrides, configPath: configPath))
    }

    public static func load(
        environment: [String: String], overrides: [String: String] = [:], source: ConfigSource
    ) -> Result<Settings, SettingsError> {
        let merged: [String: String]
        do throws(SettingsError) {
            merged = try variables(environment: environment, overrides: overrides, source: source)
        } catch {
            return .failure(error)
        }
        do throws(SettingsError) {
            return .success(try Settings.parse(merged))
        } catch {
            // The spool alone, read by the same rules: where the alarm about the rest is kept.
            var located = error
            located.spool = try? Settings.parse([Settings.Key.spool: merged[Settings.Key.spool] ?? ""]).spool
            return .failure(located)
        }
    }

    /// The config file these settings read: `configPath` (`--config`), else `PIXELHOOK_CONFIG`
    /// (a request's, then the process's), else the first of `searchPaths` that exists.
    public static func source(
        environment: [String: String], overrides: [String: String] = [:], configPath: String? = nil,
        searchPaths: @autoclosure () -> [String] = ConfigSource.effectiveSearchPaths
    ) -> ConfigSource {
        ConfigSource.resolve(named: configPath ?? overrides[Settings.Key.config] ?? environment[Settings.Key.config],
                             searchPaths: searchPaths())
    }

    /// The `PIXELHOOK_*` variables `load` parses: the config file's, then the environment's,
    /// then `overrides`, later ones winning.
    public static func variables(
        environment: [String: String], overrides: [String: String] = [:], configPath: String? = nil
    ) throws(SettingsError) -> [String: String] {
        try variables(environment: environment, overrides: overrides,
                      source: source(environment: environment, overrides: overrides, configPath: configPath))
    }

    public static func variables(
        environment: [String: String], overrides: [String: String] = [:], source: ConfigSource
    ) throws(SettingsError) -> [String: String] {
        var file: [String: String] = [:]
        if let path = source.path { file = try ConfigFile.parse(readConfig(path)) }
        return Settings.merge(file, environment, overrides)
    }

    static func readConfig(_ path: String) throws(SettingsError) -> String {
        let bytes: [UInt8]
        do {
            let fd = try FileDescriptor.open(path, .readOnly, options: [.closeOnExec])
            bytes = try fd.closeAfter {
                if let unsafe = ConfigFileOwnership.problem(fd.rawValue, path: path) { throw SettingsError(unsafe) }
                return try FileContents.read(fd, limit: 1 << 20)
            }
        } catch let error as SettingsError {
            throw error
        } catch is FileContents.TooLarge {
            throw SettingsError("config file \(path) is larger than 1 MiB")
        } catch {
            throw SettingsError("cannot read config file \(path): \(error)")
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// The process environment as a dictionary, without Foundation's `ProcessInfo`.
public enum ProcessEnvironment {
    public static func current() -> [String: String] { dictionary(environ) }

    /// `NAME=VALUE` entries of a NULL-terminated C array (`environ`, FastCGI parameters).
    /// Split on the bytes, not on `Character`s: this runs on every CGI start.
    public static func dictionary(_ entries: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> [String: String] {
        dictionary(entries) { _ in true }
    }

    /// Only what a request is decided on: the meta-variables `RequestHead` reads and the
    /// `PIXELHOOK_*` settings. A web server passes dozens of others (every `HTTP_*` header);
    /// skipping them before they become strings is a sixth of a FastCGI request's work.
    public static func requestVariables(_ entries: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> [String: String] {
        dictionary(entries) { name in
            name.starts(with: settingsPrefix) || requestNames.contains { $0.elementsEqual(name) }
        }
    }

    private static let settingsPrefix = Array("PIXELHOOK_".utf8)
    private static let requestNames = RequestHead.metaVariableNames.map { Array($0.utf8) }

    private static func dictionary(
        _ entries: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, keeping wanted: (UnsafeBufferPointer<UInt8>) -> Bool
    ) -> [String: String] {
        var variables: [String: String] = [:]
        guard var pointer = entries else { return variables }
        variables.reserveCapacity(32)
        while let entry = pointer.pointee {
            let length = strlen(entry)
            entry.withMemoryRebound(to: UInt8.self, capacity: length) { start in
                let text = UnsafeBufferPointer(start: start, count: length)
                if let equals = text.firstIndex(of: UInt8(ascii: "=")),
                   wanted(UnsafeBufferPointer(rebasing: text[..<equals])) {
                    variables[String(decoding: text[..<equals], as: UTF8.self)] =
                        String(decoding: text[(equals + 1)...], as: UTF8.self)
                }
            }
            pointer += 1
        }
        return variables
    }
}
