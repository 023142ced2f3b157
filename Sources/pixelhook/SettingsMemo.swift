import PixelhookCore
import PixelhookRuntime

/// The settings one FastCGI worker parsed last, by the per-request `PIXELHOOK_*` parameters
/// they came from. nginx sends the same `fastcgi_param`s with every request of a location, and
/// merging and parsing them again was a fifth of a duplicate request's work. Configuration
/// only, never request state; and not kept when a config file is named, since the file may be
/// edited between requests.
struct SettingsMemo {
    private var overrides: [String: String]?
    private var settings: Result<Settings, SettingsError>?

    mutating func settings(environment: [String: String], overrides: [String: String]) -> Result<Settings, SettingsError> {
        if let settings, overrides == self.overrides { return settings }
        let loaded = SettingsLoader.load(environment: environment, overrides: overrides)
        let namesConfigFile = environment[Settings.Key.config] != nil || overrides[Settings.Key.config] != nil
        self.overrides = namesConfigFile ? nil : overrides
        self.settings = namesConfigFile ? nil : loaded
        return loaded
    }
}
