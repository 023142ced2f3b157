#if canImport(Glibc)
import Glibc
#endif
import PixelhookCore

/// An environment cut to what `execve` accepts, so a long field cannot make a handler
/// unrunnable (E2BIG, "Argument list too long") for ever. Each `NAME=value\0` fits the
/// kernel's MAX_ARG_STRLEN, and all of them together stay within half of ARG_MAX (the rest is
/// room for argv and the pointers); values are cut on a UTF-8 character boundary. The handler
/// still gets every byte on stdin and in the payload file.
enum ExecEnvironment {
    /// What every process pixelhook starts (runner, handler) gets besides its own variables:
    /// a fixed PATH and a UTF-8 locale, never the web server's.
    static let base = [("PATH", "/usr/local/bin:/usr/bin:/bin"), ("LANG", "C.UTF-8")]

    /// The environment of a pixelhook process started with `settings` (a runner, the cluster
    /// helper): every setting, and an empty PIXELHOOK_CONFIG, which spares it looking for a
    /// config file again (`ConfigSource.disabled`).
    static func carrying(_ settings: Settings) -> [String] {
        settings.variables.map { "\($0.key)=\($0.value)" } + ["\(Settings.Key.config)="] + base.map { "\($0)=\($1)" }
    }

    /// MAX_ARG_STRLEN (32 pages): the longest single argv or envp string, its NUL included.
    static let maxEntryBytes = 32 * 4096

    /// Half of the system's ARG_MAX (2 MiB with the usual 8 MiB stack).
    static var defaultBudget: Int { max(Int(sysconf(Int32(_SC_ARG_MAX))), maxEntryBytes * 2) / 2 }

    /// `NAME=value` strings, sorted; a value is cut only when it must be. The space is shared
    /// out smallest first, so short entries stay whole and the long ones share what is left.
    static func entries(_ environment: [String: String], budget: Int = defaultBudget) -> [String] {
        let pointer = MemoryLayout<UnsafePointer<CChar>>.size
        // Bytes an entry takes: the string, its NUL, its pointer.
        func cost(_ name: String, _ value: String) -> Int { name.utf8.count + 1 + value.utf8.count + 1 + pointer }
        var remaining = budget
        var fitted: [String] = []
        let bySize = environment.sorted { cost($0.key, $0.value) < cost($1.key, $1.value) }
        for (index, (name, value)) in bySize.enumerated() {
            let share = remaining / (bySize.count - index)
            let room = min(share - pointer, maxEntryBytes) - (name.utf8.count + 2)
            let kept = prefix(of: value, bytes: max(0, room))
            remaining -= cost(name, kept)
            fitted.append("\(name)=\(kept)")
        }
        return fitted.sorted()
    }

    /// The longest prefix of `value` of at most `bytes` UTF-8 bytes that ends on a character
    /// boundary (never half of a multi-byte sequence).
    static func prefix(of value: String, bytes: Int) -> String {
        let utf8 = Array(value.utf8)
        guard utf8.count > bytes else { return value }
        var end = bytes
        while end > 0, utf8[end] & 0xC0 == 0x80 { end -= 1 }  // utf8[end] starts the first byte dropped
        return String(decoding: utf8[..<end], as: UTF8.self)
    }
}
