#if canImport(Glibc)
import Glibc
#endif
import PixelhookGateways
import PixelhookRuntime

// The CGI hot path skips argument parsing entirely: a web server starts us with no arguments
// and GATEWAY_INTERFACE set (RFC 3875).
if CommandLine.arguments.count == 1, getenv("GATEWAY_INTERFACE") != nil {
    exit(CGIGateway.serve(environment: ProcessEnvironment.requestVariables(environ)))
}
// With no command on a listening socket (spawn-fcgi, lighttpd bin-path, systemd): FastCGI.
if CommandLine.arguments.count == 1, FastCGIListener.isListeningSocketOnStandardInput() {
    do {
        // Checked here, where a refusal can still be one line and exit 64; the supervised
        // responder applies the same rules.
        _ = try FastCGITrust(listener: 0, rules: .init(), processEnvironment: ProcessEnvironment.current())
    } catch {
        StandardOutput.write("pixelhook: \(error) (start it as 'pixelhook fastcgi' with the options of 'pixelhook fastcgi --help')\n", to: 2)
        exit(64)
    }
    exit(FastCGISupervisor.run(listener: 0, arguments: ["fastcgi"], socketPath: nil))
}
// Everything else: a command. Those that run handlers must find a handler's setsid daemon
// among their children afterwards; the others (the FastCGI responder above all) must not
// adopt their children's orphans.
if let command = CommandLine.arguments.dropFirst().first,
   [DetachedQueueRunner.subcommand, "handle", "retry", "replay"].contains(command) {
    HandlerProcess.adoptOrphans()
}
// The runner a gateway starts after each answer: no argument parsing on that path either.
if let slot = RunQueue.fastArguments(CommandLine.arguments) {
    guard let problem = RunQueue.drain(delivery: nil, slot: slot) else { exit(0) }
    RunQueue.fail(problem)
}
// Errors are one line on stderr (CommandLineRunner).
Pixelhook.runCommandLine()
