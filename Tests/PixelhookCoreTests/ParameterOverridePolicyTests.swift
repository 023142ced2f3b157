import PixelhookCore
import Testing

/// The decision for one request's `PIXELHOOK_*` parameters (SPEC "Settings").
struct ParameterOverridePolicyTests {
    let unix = ParameterOverridePolicy(appliesOverrides: true, allowedPaths: [
        Settings.Key.spool: ["/srv/own", "/srv/other"], Settings.Key.handlers: [""], Settings.Key.config: [""],
    ])

    @Test("Non-path settings and allowed paths apply, as the value Settings will use")
    func applies() {
        let overrides = ["PIXELHOOK_TOKEN": "t", "PIXELHOOK_SPOOL": " /srv/other ", "PIXELHOOK_HANDLERS": "/etc/pixelhook/handlers"]
        #expect(unix.decide(overrides) == .apply(overrides))
        #expect(unix.decide([:]) == .apply([:]))
    }

    @Test("A path not allowed is refused with the option to pass; empty is the default, which must be allowed too",
          arguments: [
            ("PIXELHOOK_SPOOL", "/tmp/x", "--allow-spool /tmp/x"),
            ("PIXELHOOK_SPOOL", "", "--allow-spool PATH"),
            ("PIXELHOOK_HANDLERS", "/tmp/h", "--allow-handlers /tmp/h"),
            // A config path is read as written: " /etc/c" is not "/etc/c".
            ("PIXELHOOK_CONFIG", " ", "--allow-config  "),
          ])
    func refuses(_ key: String, _ value: String, _ option: String) {
        guard case .refuse(let reason) = unix.decide([key: value, "PIXELHOOK_TOKEN": "t"]) else {
            Issue.record("\(key)=\(value) was not refused")
            return
        }
        #expect(reason.contains(key) && reason.contains(option), "\(reason)")
    }

    @Test("Without the opt-in (TCP) every override is ignored, named")
    func ignores() {
        let tcp = ParameterOverridePolicy(appliesOverrides: false, allowedPaths: unix.allowedPaths)
        #expect(tcp.decide(["PIXELHOOK_TOKEN": "t", "PIXELHOOK_SPOOL": "/srv/own"]) == .ignore(names: ["PIXELHOOK_SPOOL", "PIXELHOOK_TOKEN"]))
    }
}
