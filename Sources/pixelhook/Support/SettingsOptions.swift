#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import PixelhookCore
import PixelhookRuntime

/// `--config FILE` and the settings it leads to, shared by the operator commands: the
/// environment over the file, exactly as `handle` reads them.
struct SettingsOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "A config file of PIXELHOOK_* settings (default: $PIXELHOOK_CONFIG, else ~/.config/pixelhook/pixelhook.conf, else /etc/pixelhook/pixelhook.conf).",
        valueName: "file"))
    var config: String?

    /// The config file the settings come from.
    var source: ConfigSource {
        SettingsLoader.source(environment: ProcessEnvironment.current(), configPath: config)
    }

    /// The settings, or why they cannot be used.
    var loaded: Result<Settings, SettingsError> {
        SettingsLoader.load(environment: ProcessEnvironment.current(), source: source)
    }

    /// Valid settings, or the one-line error and exit 78 (EX_CONFIG).
    func load() throws -> Settings {
        switch loaded {
        case .success(let settings): return settings
        case .failure(let error): throw CommandFailure(.settings, "settings: \(error.message)")
        }
    }

    /// For a command that works on the stored deliveries: valid settings whose spool exists
    /// (SPEC "Commands": a missing one is said, with where to point elsewhere, exit 74), and,
    /// started by root on another user's spool, running as that user (`RunAsSpoolOwner`).
    func loadExistingSpool() throws -> Settings {
        let source = self.source
        let settings: Settings
        switch SettingsLoader.load(environment: ProcessEnvironment.current(), source: source) {
        case .success(let valid): settings = valid
        case .failure(let error): throw CommandFailure(.settings, "settings: \(error.message)")
        }
        var info = stat()
        if stat(settings.spool, &info) != 0, errno == ENOENT || errno == ENOTDIR {
            throw CommandFailure(.storage, "no spool at \(settings.spool) (no directory there: nothing stored yet, or the web server's spool is elsewhere); "
                + source.whereToSet(Settings.Key.spool))
        }
        try RunAsSpoolOwner.become(ownerOf: settings.spool)
        return settings
    }
}
