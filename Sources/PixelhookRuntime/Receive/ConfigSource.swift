#if canImport(Glibc)
import Glibc
#endif
import PixelhookCore

/// Which config file the settings come from (SPEC "One configuration, found without help"):
/// the one `--config` or `PIXELHOOK_CONFIG` names, else the first that exists of the user's
/// own `~/.config/pixelhook/pixelhook.conf` (home from the password file, not `$HOME`: suEXEC
/// passes none) and `/etc/pixelhook/pixelhook.conf`. So the web server's CGI, the FastCGI
/// responder and the operator's commands see the same settings without being told where.
public enum ConfigSource: Sendable, Equatable, CustomStringConvertible {
    /// Named by `--config` or `PIXELHOOK_CONFIG`.
    case named(String)
    /// The first of the usual places that exists.
    case found(String)
    /// `PIXELHOOK_CONFIG` set to nothing: no file, on purpose (pixelhook's own runners get
    /// this, their environment already holds every setting).
    case disabled
    /// None of the usual places has a file.
    case notFound(lookedAt: [String])

    public static let systemPath = "/etc/pixelhook/pixelhook.conf"
    /// Below the home of the user pixelhook runs as.
    public static let userPath = ".config/pixelhook/pixelhook.conf"

    /// The usual places, in the order they are tried, for a user with this home.
    public static func searchPaths(home: String?) -> [String] {
        guard let home, home.hasPrefix("/") else { return [systemPath] }
        return [(home.hasSuffix("/") ? home : home + "/") + userPath, systemPath]
    }

    /// For the user this process runs as.
    public static var effectiveSearchPaths: [String] { searchPaths(home: UserAccount.effective?.home) }

    /// `named` (from `--config`, else the `PIXELHOOK_CONFIG` variable) if given, else the first
    /// of `searchPaths` that exists.
    public static func resolve(named: String?, searchPaths: @autoclosure () -> [String]) -> ConfigSource {
        if let named { return named.isEmpty ? .disabled : .named(named) }
        let paths = searchPaths()
        var info = stat()
        for path in paths where stat(path, &info) == 0 { return .found(path) }
        return .notFound(lookedAt: paths)
    }

    /// The file to read, if any.
    public var path: String? {
        switch self {
        case .named(let path), .found(let path): return path
        case .disabled, .notFound: return nil
        }
    }

    /// For `pixelhook check`: `config file /etc/pixelhook/pixelhook.conf`.
    public var description: String {
        switch self {
        case .named(let path), .found(let path): return "config file \(path)"
        case .disabled: return "no config file (\(Settings.Key.config) is empty)"
        case .notFound(let paths): return "no config file (none at \(paths.joined(separator: " or ")))"
        }
    }

    /// Where an operator sets `key` so that this process sees it, for a one-line error.
    public func whereToSet(_ key: String) -> String {
        switch self {
        case .named(let path), .found(let path):
            return "set \(key) in \(path) (the config file read) or in the environment"
        case .disabled:
            return "set \(key) in the environment, or name a config file with --config or \(Settings.Key.config)"
        case .notFound(let paths):
            return "set \(key) in the environment or in a config file (\(paths.joined(separator: " or ")); none exists now)"
        }
    }
}
