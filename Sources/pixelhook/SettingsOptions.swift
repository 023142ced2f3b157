import ArgumentParser
import PixelhookCore
import PixelhookRuntime

/// `--config FILE` and the settings it leads to, shared by the operator commands: the
/// environment over the file, exactly as `handle` reads them.
struct SettingsOptions: ParsableArguments {
    @Option(help: ArgumentHelp("A config file of PIXELHOOK_* settings (default: $PIXELHOOK_CONFIG).", valueName: "file"))
    var config: String?

    /// The settings, or why they cannot be used.
    var loaded: Result<Settings, SettingsError> {
        SettingsLoader.load(environment: ProcessEnvironment.current(), configPath: config)
    }

    /// Valid settings, or the one-line error and exit 78 (EX_CONFIG).
    func load() throws -> Settings {
        switch loaded {
        case .success(let settings): return settings
        case .failure(let error): throw CommandFailure(.settings, "settings: \(error.message)")
        }
    }
}
