#ifndef CAISSON_FUZZ_DRIVER_H
#define CAISSON_FUZZ_DRIVER_H
#include <stddef.h>
#include <stdint.h>

/* libFuzzer's own entry point (compiler-rt, linked by -sanitize=fuzzer). SwiftPM links an
   executable's `main` to MODULE_main, so each fuzz target defines that and calls this. */
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
