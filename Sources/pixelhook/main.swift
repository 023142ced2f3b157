#if canImport(Glibc)
import Glibc
#endif
import PixelhookRuntime

// The CGI hot path skips argument parsing entirely: a web server starts us with no arguments
// and GATEWAY_INTERFACE set (RFC 3875).
let environment = ProcessEnvironment.current()
if CommandLine.arguments.count == 1, environment["GATEWAY_INTERFACE"] != nil {
    exit(CGIGateway.serve(environment: environment))
}
// With no command on a listening socket (spawn-fcgi, lighttpd bin-path, systemd): FastCGI.
if CommandLine.arguments.count == 1, FastCGIListener.isListeningSocketOnStandardInput() {
    exit(FastCGIResponder.serve(listener: 0, workers: FastCGI.defaultWorkers))
}
// Everything else: a command. Errors are one line on stderr (CommandLineRunner).
Pixelhook.runCommandLine()
