#ifndef FULCRUM_CRC32C_H
#define FULCRUM_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/// CRC32C (Castagnoli) of `length` bytes, continuing from `crc` (0 to start).
/// Uses the SSE4.2 instruction when the CPU has it, a table otherwise; both
/// give the same value.
uint32_t fulcrum_crc32c(uint32_t crc, const void *bytes, size_t length);

#endif
