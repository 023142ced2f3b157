#if PIXELHOOK_FUZZ
import PixelhookFuzz
import PixelhookFuzzDriver

/// The fuzz build (`fuzz/run.sh`): libFuzzer's driver takes the command line (its own flags,
/// corpus directories) and calls `FuzzTarget.run` for each input it makes.
///
/// SwiftPM gives every executable its own `main`, so libFuzzer's is not used: the program is
/// linked with `libclang_rt.fuzzer_no_main` and hands control over here.
enum LibFuzzer {
    static func run() -> Int32 {
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        return LLVMFuzzerRunDriver(&argc, &argv) { data, size in
            guard let data, size > 0 else { return 0 }
            FuzzTarget.run(Array(UnsafeBufferPointer(start: data, count: size)))
            return 0
        }
    }
}
#endif
