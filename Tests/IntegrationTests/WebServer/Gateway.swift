import Testing

/// The real web servers every integration scenario runs through. Tests take it as a parameter
/// (`@Test(arguments: Gateway.allCases)`); everything that differs between them (which example
/// config, how it is rendered, which processes to start) lives in `WebServerFixture`.
enum Gateway: String, CaseIterable, Sendable, CustomTestStringConvertible {
    /// `lighttpd.conf.example`, CGI section: lighttpd's mod_cgi runs pixelhook once per request.
    case lighttpdCGI
    /// `nginx.conf.example`, CGI section: nginx → fcgiwrap → pixelhook once per request.
    case nginxFcgiwrap
    /// `nginx.conf.example`, FastCGI section: nginx → one `pixelhook fastcgi --listen SOCKET`
    /// (or spawn-fcgi) the fixture starts; settings arrive as per-request `fastcgi_param`s.
    case nginxFastCGI
    /// `lighttpd.conf.example`, FastCGI section: mod_fastcgi starts pixelhook itself
    /// (`bin-path`, the socket on fd 0); settings arrive in its `bin-environment`.
    case lighttpdFastCGI
    /// `apache.conf.example`: Apache's mod_cgi runs pixelhook once per request, as www-data
    /// (Apache refuses to run CGI as root), so the fixture's directory is www-data's.
    case apacheCGI

    /// The gateways every scenario runs through. Apache is not among them: its CGI runs as
    /// www-data, which scenarios that break the spool as root (tmpfs, crash injection) do not
    /// allow for; `ApacheTests` and the over-limit scenarios use `withApache`.
    static let allCases: [Gateway] = [.lighttpdCGI, .nginxFcgiwrap, .nginxFastCGI, .lighttpdFastCGI]
    static let withApache: [Gateway] = allCases + [.apacheCGI]

    var testDescription: String { rawValue }

    enum Server { case lighttpd, nginx, apache }

    var server: Server {
        switch self {
        case .lighttpdCGI, .lighttpdFastCGI: .lighttpd
        case .nginxFcgiwrap, .nginxFastCGI: .nginx
        case .apacheCGI: .apache
        }
    }

    /// The example's section this gateway uses: its banner comment starts `# CGI:` or
    /// `# FastCGI:` and it ends at `# end of CGI section` or `# end of FastCGI section`.
    var section: String {
        switch self {
        case .lighttpdCGI, .nginxFcgiwrap, .apacheCGI: "CGI"
        case .nginxFastCGI, .lighttpdFastCGI: "FastCGI"
        }
    }

    /// The URL path that section serves.
    var path: String { section == "CGI" ? "/hooks/streampixel" : "/hooks/streampixel-fastcgi" }
}

/// How the fixture starts the FastCGI responder for `.nginxFastCGI` (the nginx example's two
/// documented ways that need no systemd).
enum ResponderLaunch: String, CaseIterable, Sendable, CustomTestStringConvertible {
    /// `pixelhook fastcgi --listen SOCKET --socket-mode 0660`: pixelhook creates the socket.
    case listen
    /// `spawn-fcgi -n -s SOCKET -M 0660 -- pixelhook`: the socket arrives as fd 0 (no arguments).
    case spawnFcgi

    var testDescription: String { rawValue }
}

/// One more copy of the gateway's location (nginx only), with its own path and settings: several
/// locations served by one FastCGI responder.
struct ExtraLocation {
    let path: String
    /// `PIXELHOOK_*` values for this copy, as for the fixture's own `settings`.
    let settings: [String: String?]
    /// Its `PIXELHOOK_SPOOL`, relative to the fixture's directory.
    let spool: String
}
