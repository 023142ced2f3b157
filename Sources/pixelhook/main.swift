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
    exit(FastCGISupervisor.runBare())
}
// The runner a gateway starts after each answer: no argument parsing on that path either.
DetachedQueueRunner.enterIfStarted(arguments: CommandLine.arguments)
// Everything else: a command. Errors are one line on stderr (CommandLineRunner).
Pixelhook.runCommandLine()
