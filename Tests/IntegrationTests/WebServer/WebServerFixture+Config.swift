import Foundation
import PixelhookTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Rendering the example config: the package's `*.conf.example` for this gateway, changed only
/// by the substitutions its header lists and by this fixture's `PIXELHOOK_*` settings.
extension WebServerFixture {
    /// The example file this gateway's server is started from.
    var exampleFile: String {
        switch gateway.server {
        case .lighttpd: BuiltBinary.packageRoot + "/lighttpd.conf.example"
        case .nginx: BuiltBinary.packageRoot + "/nginx.conf.example"
        case .apache: BuiltBinary.packageRoot + "/apache.conf.example"
        }
    }

    /// The textual substitutions, in order, exactly as the example's header lists them. The port
    /// comes first so that no temporary path inserted later can be mistaken for it.
    func substitutions(port: Int) -> [(String, String)] {
        switch gateway.server {
        case .lighttpd:
            [
                ("8080", String(port)),
                ("\"0.0.0.0\"", "\"127.0.0.1\""),
                ("/usr/local/bin/pixelhook", binary),
                ("/var/spool/pixelhook", spool),
                ("/etc/pixelhook/handlers", handlers),
                ("/var/log/lighttpd", logDirectory),
                ("/run/lighttpd", runDirectory),
            ]
        case .nginx:
            [
                ("listen 8080;", "listen 127.0.0.1:\(port);"),
                ("user www-data;", "user root;"),
                ("/run/nginx.pid", directory + "/nginx.pid"),
                ("/var/log/nginx", logDirectory),
                ("/var/lib/nginx", directory + "/nginx"),
                ("/run/fcgiwrap.socket", fcgiwrapSocket),
                ("/run/pixelhook/pixelhook.sock", responderSocket),
                ("/usr/local/bin/pixelhook", binary),
                ("/var/spool/pixelhook", spool),
                ("/etc/pixelhook/handlers", handlers),
            ]
        case .apache:
            [
                ("Listen 8080", "Listen 127.0.0.1:\(port)"),
                ("/run/apache2", runDirectory),
                ("/var/log/apache2", logDirectory),
                ("/usr/local/bin/pixelhook", binary),
                ("/var/spool/pixelhook", spool),
                ("/etc/pixelhook/handlers", handlers),
            ]
        }
    }

    /// Lines whose text (after indentation) starts with these are commented out.
    var removedLines: [String] {
        switch gateway.server {
        case .lighttpd: ["server.username", "server.groupname"]
        case .nginx, .apache: []
        }
    }

    /// The example's line for a setting, with or without a leading `#`, and the line to use.
    private func settingLine(_ key: String, _ value: String?) -> (matches: (String) -> Bool, line: String) {
        if let value {
            precondition(!value.contains("\"") && !value.contains("\\"), "test setting values are kept simple")
        }
        switch gateway.server {
        case .lighttpd:
            return ({ $0.hasPrefix("\"\(key)\"") },
                    value.map { "\"\(key)\" => \"\($0)\"," } ?? "# \"\(key)\" unset by the test")
        case .nginx:
            return ({ $0.hasPrefix("fastcgi_param \(key) ") || $0.hasPrefix("fastcgi_param \(key)\t") },
                    value.map { "fastcgi_param \(key) \"\($0)\";" } ?? "# fastcgi_param \(key) unset by the test")
        case .apache:
            return ({ $0.hasPrefix("SetEnv \(key) ") },
                    value.map { "SetEnv \(key) \"\($0)\"" } ?? "# SetEnv \(key) unset by the test")
        }
    }

    /// The example config with this fixture's port, paths and settings.
    func renderConfig(port: Int) throws -> String {
        var text = try String(contentsOfFile: exampleFile, encoding: .utf8)
        for (from, to) in substitutions(port: port) {
            guard text.contains(from) else {
                throw FixtureError("\(exampleFile) no longer contains \(from): update its header comment and WebServerFixture.substitutions")
            }
            text = text.replacingOccurrences(of: from, with: to)
        }
        var lines = text.components(separatedBy: "\n")
        for prefix in removedLines {
            let hits = lines.indices.filter { lines[$0].drop { $0 == " " }.hasPrefix(prefix) }
            guard !hits.isEmpty else { throw FixtureError("\(exampleFile) has no \(prefix) line any more: update WebServerFixture.removedLines") }
            for index in hits { lines[index] = "# " + lines[index] }
        }
        let section = try sectionRange(lines)
        var copies: [String] = []
        var insertion = section.upperBound
        if !extraLocations.isEmpty {
            guard gateway.server == .nginx else { throw FixtureError("extra locations are for nginx only") }
            let block = try locationBlock(lines, in: section)
            insertion = block.upperBound + 1
            for extra in extraLocations {
                var copy = Array(lines[block])
                copy[0] = copy[0].replacingOccurrences(of: "location = \(gateway.path) {", with: "location = \(extra.path) {")
                var settings = extra.settings
                settings["PIXELHOOK_SPOOL"] = directory + "/" + extra.spool
                try apply(settings, to: &copy, in: copy.indices)
                copies += copy
            }
        }
        try apply(settings, to: &lines, in: section)
        lines.insert(contentsOf: copies, at: insertion)
        return lines.joined(separator: "\n") + (appendedConfig.isEmpty ? "" : "\n" + appendedConfig + "\n")
    }

    /// A line's indentation and its text without indentation and without a leading `#`.
    private func body(_ line: String) -> (indent: Substring, text: String) {
        let indent = line.prefix { $0 == " " || $0 == "\t" }
        var rest = line.dropFirst(indent.count)
        if rest.hasPrefix("#") { rest = rest.dropFirst().drop { $0 == " " } }
        return (indent, String(rest))
    }

    /// The lines of this gateway's section: from its banner (a comment `# CGI: ...` or
    /// `# FastCGI: ...` right under a `# ====...` line) to its `# end of ... section` line, which
    /// must each appear once.
    private func sectionRange(_ lines: [String]) throws -> Range<Int> {
        let name = gateway.section
        let starts = lines.indices.dropFirst().filter {
            lines[$0].drop { $0 == " " }.hasPrefix("#") && body(lines[$0]).text.hasPrefix(name + ":")
                && body(lines[$0 - 1]).text.hasPrefix("====")
        }
        let ends = lines.indices.filter { body(lines[$0]).text == "end of \(name) section" }
        guard starts.count == 1, ends.count == 1, starts[0] < ends[0] else {
            throw FixtureError("\(exampleFile) must have one `# \(name): ...` banner and one `# end of \(name) section` after it (found \(starts.count) and \(ends.count))")
        }
        return starts[0]..<ends[0]
    }

    /// nginx: the `location = PATH { ... }` lines of the section, closing brace included.
    private func locationBlock(_ lines: [String], in section: Range<Int>) throws -> ClosedRange<Int> {
        guard let open = section.first(where: { body(lines[$0]).text == "location = \(gateway.path) {" }),
              let close = section.first(where: { $0 > open && lines[$0] == body(lines[open]).indent + "}" }) else {
            throw FixtureError("\(exampleFile): no `location = \(gateway.path) { ... }` in its \(gateway.section) section")
        }
        return open...close
    }

    /// Sets or comments out each setting's one line within `range`.
    private func apply(_ settings: [String: String?], to lines: inout [String], in range: Range<Int>) throws {
        for (key, value) in settings.sorted(by: { $0.key < $1.key }) {
            let (matches, replacement) = settingLine(key, value)
            let hits = range.filter { matches(body(lines[$0]).text) }
            guard hits.count == 1 else {
                throw FixtureError("\(exampleFile) must have exactly one line for \(key) (set or commented out) in its \(gateway.section) section, found \(hits.count)")
            }
            lines[hits[0]] = body(lines[hits[0]]).indent + replacement
        }
    }
}
