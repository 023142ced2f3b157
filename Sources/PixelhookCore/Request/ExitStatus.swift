/// How a pixelhook process ends, from sysexits(3) where one fits: the one table for the
/// commands, `handle` (whose status is its request's and handler's outcome) and the runner.
public enum ExitStatus: Int32, Sendable {
    case success = 0
    /// Anything else that went wrong: nothing to replay, a handler failed or timed out.
    case failed = 1
    /// EX_USAGE: bad arguments, or started with nothing to do.
    case usage = 64
    /// EX_DATAERR: an invalid payload or unknown project, or a name the spool does not hold.
    case invalid = 65
    /// EX_UNAVAILABLE: cluster mode's PostgreSQL (or its helper, `pixelhook-cluster`) cannot
    /// be reached; a view then shows this host's spool only, and says so.
    case unavailable = 69
    /// EX_IOERR: the spool could not be read or written.
    case storage = 74
    /// EX_TEMPFAIL: the handler asked to be run again (it exited 75).
    case retry = 75
    /// EX_NOPERM: started by root on another user's spool and cannot become that user.
    case permission = 77
    /// EX_CONFIG: the settings are invalid.
    case settings = 78
}
