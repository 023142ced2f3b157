#if canImport(Glibc)
import Glibc
#endif
import PixelhookCore
import SystemPackage

/// `PIXELHOOK_HANDLERS` as the runner, the health check and `check` see it (SPEC "Handlers"):
/// only a handler missing from a directory that exists and can be searched means "nothing to
/// run" (stored and marked done). A directory that is missing, not a directory or not
/// searchable, and a handler file that exists but cannot be run, fail the delivery instead, so
/// `retry` runs it once fixed.
struct HandlersDirectory {
    let path: String

    /// Why no handler in this directory can be looked up at all: a short reason for an HTTP
    /// answer (no path), and the detail naming the directory for the operator.
    var problem: (reason: String, detail: String)? {
        guard let info = DirectoryListing.status(path) else {
            let why = errno == ENOENT ? "does not exist" : "cannot be read (\(Errno(rawValue: errno)))"
            return ("handlers directory missing", "handlers directory \(path) \(why)")
        }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            return ("handlers directory missing", "handlers directory \(path) is not a directory")
        }
        guard access(path, X_OK) == 0 else {
            return ("handlers directory unreadable",
                    "handlers directory \(path) cannot be searched by this user (\(Errno(rawValue: errno)))")
        }
        return nil
    }

    enum Lookup: Equatable {
        /// Neither `EVENT` nor `default` exists in a searchable directory.
        case none
        case runnable(String)
        /// Why the delivery fails: the directory, or the handler file, cannot be used.
        case unusable(handler: String?, reason: String)
    }

    /// `PATH/EVENT`, else `PATH/default`. A name that `lstat` finds is the handler, even a
    /// broken symbolic link: it exists, and cannot be run until its target is there.
    func handler(for event: String) -> Lookup {
        if let problem { return .unusable(handler: nil, reason: problem.detail) }
        for name in [event, HandlerFileCheck.defaultName] {
            let file = "\(path)/\(name)"
            var link = stat()
            guard lstat(file, &link) == 0 else {
                if errno == ENOENT { continue }
                return .unusable(handler: file, reason: "\(file) cannot be read (\(Errno(rawValue: errno)))")
            }
            let looked = HandlerFileCheck.File(lookingAt: file, name: name)
            if let unrunnable = HandlerFileCheck.unrunnable(looked, path: file) {
                return .unusable(handler: file, reason: unrunnable.reason + (unrunnable.fix.map { " (\($0))" } ?? ""))
            }
            return .runnable(file)
        }
        return .none
    }
}

extension HandlerFileCheck.File {
    /// What is at `path` now, as `HandlerFileCheck` judges it (following symbolic links).
    init(lookingAt path: String, name: String) {
        let kind: HandlerFileCheck.Kind
        if let info = DirectoryListing.status(path) {
            switch info.st_mode & S_IFMT {
            case S_IFREG: kind = .regular
            case S_IFDIR: kind = .directory
            default: kind = .other("not a regular file")
            }
        } else {
            var link = stat()
            kind = lstat(path, &link) == 0 ? .other("a broken symbolic link") : .other("unreadable")
        }
        self.init(name: name, kind: kind, isExecutable: access(path, X_OK) == 0)
    }
}
