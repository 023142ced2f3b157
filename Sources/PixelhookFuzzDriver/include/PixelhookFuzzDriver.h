#ifndef PIXELHOOK_FUZZ_DRIVER_H
#define PIXELHOOK_FUZZ_DRIVER_H

#include <stddef.h>
#include <stdint.h>

/// libFuzzer's driver, from clang's `libclang_rt.fuzzer_no_main`: runs the fuzzing loop (or
/// the inputs named on the command line) with libFuzzer's flags, calling `callback` per input.
/// Only `fuzz/run.sh` links that library, and only the `PIXELHOOK_FUZZ` build calls this.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
