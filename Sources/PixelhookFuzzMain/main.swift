#if canImport(Glibc)
import Glibc
#endif

// `fuzz/run.sh` builds with `-DPIXELHOOK_FUZZ` and libFuzzer linked in; a plain build replays.
#if PIXELHOOK_FUZZ
exit(LibFuzzer.run())
#else
exit(CorpusReplay.run(Array(CommandLine.arguments.dropFirst())))
#endif
