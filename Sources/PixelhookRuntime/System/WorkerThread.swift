#if canImport(Glibc)
import Glibc
#endif

/// A pthread running one closure (Foundation's `Thread` is not in FoundationEssentials).
package enum WorkerThread {
    private final class Body {
        let run: () -> Void
        init(_ run: @escaping () -> Void) { self.run = run }
    }

    /// The thread, or nil if the system would not start one.
    package static func start(_ run: @escaping () -> Void) -> pthread_t? {
        var thread = pthread_t()
        let body = Unmanaged.passRetained(Body(run))
        let result = pthread_create(&thread, nil, { raw in
            Unmanaged<Body>.fromOpaque(raw!).takeRetainedValue().run()
            return nil
        }, body.toOpaque())
        guard result == 0 else {
            body.release()
            return nil
        }
        return thread
    }
}
