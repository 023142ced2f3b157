import ArgumentParser
import PixelhookCore
import PixelhookRuntime

/// What `send` and `simulate` share: the URL and timeout check, one post printed as
/// `EVENT STATUS BODY`, the failure for an answer that is not 2xx, and the project to post for.
enum WebhookPoster {
    static func check(url: String, timeout: Double) throws {
        if let problem = WebhookURL.problem(url) { throw ValidationError(problem) }
        guard timeout.isFinite, timeout > 0, timeout <= 3600 else {
            throw ValidationError("--timeout must be from 0.001 to 3600 seconds, got \(timeout)")
        }
    }

    /// Posts one envelope and prints `EVENT STATUS BODY`; no answer is a `CommandFailure`.
    static func post(_ envelope: Envelope, to url: String, client: WebhookClient) throws -> WebhookClient.Reply {
        do {
            let reply = try client.post(envelope.json.bytes, to: url)
            StandardOutput.write(reply.line(for: envelope.event) + "\n", to: 1)
            return reply
        } catch {
            throw CommandFailure(.failed, "\(envelope.event): \(error.description)")
        }
    }

    static func refused(_ reply: WebhookClient.Reply, event: String, url: String) -> CommandFailure {
        CommandFailure(.failed, "\(event): \(WebhookURL.redacted(url)) answered \(reply.status), not 2xx")
    }

    /// `given`, else the first of PIXELHOOK_PROJECT_IDS as written, with the settings read as
    /// `handle` reads them (environment over the config file).
    static func project(_ given: String?, settings: SettingsOptions) throws -> String {
        if let given { return given }
        let variables: [String: String]
        do throws(SettingsError) {
            variables = try SettingsLoader.variables(environment: ProcessEnvironment.current(), configPath: settings.config)
            _ = try Settings.parse(variables)
        } catch {
            throw CommandFailure(.settings, "settings: \(error.message)")
        }
        guard let first = Settings.firstProjectID(in: variables) else {
            throw CommandFailure(.settings, "no project: pass --project-id or set PIXELHOOK_PROJECT_IDS")
        }
        return first
    }
}
