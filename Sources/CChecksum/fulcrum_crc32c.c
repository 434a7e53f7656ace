// CRC32C for stored records. In C because the hardware instruction is the
// fast path (a 40-byte position costs a few nanoseconds) and Swift has no
// portable access to it.
#include "fulcrum_crc32c.h"

#include <string.h>

static uint32_t table[8][256];
static int hardware;

__attribute__((constructor)) static void fulcrum_crc32c_init(void) {
#if defined(__x86_64__)
    hardware = __builtin_cpu_supports("sse4.2");
#endif
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t crc = n;
        for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1)));
        table[0][n] = crc;
    }
    for (uint32_t n = 0; n < 256; n++) {
        for (int k = 1; k < 8; k++) table[k][n] = (table[k - 1][n] >> 8) ^ table[0][table[k - 1][n] & 0xFF];
    }
}

static uint32_t crc32c_table(uint32_t crc, const unsigned char *p, size_t length) {
    while (length >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        word ^= crc;  // little-endian hosts only, as is every host Fulcrum builds for
        crc = table[7][word & 0xFF] ^ table[6][(word >> 8) & 0xFF] ^ table[5][(word >> 16) & 0xFF] ^
              table[4][(word >> 24) & 0xFF] ^ table[3][(word >> 32) & 0xFF] ^ table[2][(word >> 40) & 0xFF] ^
              table[1][(word >> 48) & 0xFF] ^ table[0][word >> 56];
        p += 8;
        length -= 8;
    }
    while (length--) crc = (crc >> 8) ^ table[0][(crc ^ *p++) & 0xFF];
    return crc;
}

#if defined(__x86_64__)
#include <nmmintrin.h>

__attribute__((target("sse4.2"))) static uint32_t crc32c_sse42(uint32_t crc, const unsigned char *p, size_t length) {
    uint64_t wide = crc;
    while (length >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        wide = _mm_crc32_u64(wide, word);
        p += 8;
        length -= 8;
    }
    crc = (uint32_t)wide;
    while (length--) crc = _mm_crc32_u8(crc, *p++);
    return crc;
}
#endif

uint32_t fulcrum_crc32c(uint32_t crc, const void *bytes, size_t length) {
    crc = ~crc;
#if defined(__x86_64__)
    if (hardware) return ~crc32c_sse42(crc, bytes, length);
#endif
    return ~crc32c_table(crc, bytes, length);
}
