// libFuzzer's entry point for a program that has a main of its own (SwiftPM links every executable
// with its module's main, so the fuzz targets call libFuzzer from there instead of using its main).
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
