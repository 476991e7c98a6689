/* Bit manipulation as gcc builds it for rv64gc without Zbb: the
 * __builtin_clz/ctz/popcount/parity/bswap/ffs/clrsb families (libgcc
 * routines and table lookups) and rotates written as shift-or idioms,
 * for 32- and 64-bit operands. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>

static const uint64_t values[] = {
    1, 2, 3, 0x80, 0xff, 0x8000, 0x7fffffff, 0x80000000, 0xffffffff, 0x100000000,
    0x8000000000000000, 0x7fffffffffffffff, UINT64_MAX, 0x0123456789abcdef, 0xf0f0f0f00f0f0f0f,
    0x5555555555555555,
};

static uint64_t rotl64(uint64_t v, unsigned n) { return (v << (n & 63)) | (v >> ((64 - n) & 63)); }
static uint64_t rotr64(uint64_t v, unsigned n) { return (v >> (n & 63)) | (v << ((64 - n) & 63)); }
static uint32_t rotl32(uint32_t v, unsigned n) { return (v << (n & 31)) | (v >> ((32 - n) & 31)); }
static uint32_t rotr32(uint32_t v, unsigned n) { return (v >> (n & 31)) | (v << ((32 - n) & 31)); }

int main(void) {
    for (unsigned i = 0; i < sizeof values / sizeof values[0]; i++) {
        volatile uint64_t v = values[i];
        volatile uint32_t w = (uint32_t)values[i];
        printf("%016" PRIx64 ": clzll %d ctzll %d popcountll %d parityll %d ffsll %d clrsbll %d "
               "bswap64 %016" PRIx64 "\n",
               v, __builtin_clzll(v), __builtin_ctzll(v), __builtin_popcountll(v),
               __builtin_parityll(v), __builtin_ffsll((long long)v), __builtin_clrsbll((long long)v),
               __builtin_bswap64(v));
        if (w != 0)
            printf("%08" PRIx32 ": clz %d ctz %d popcount %d parity %d ffs %d clrsb %d bswap32 %08" PRIx32
                   " bswap16 %04x\n",
                   w, __builtin_clz(w), __builtin_ctz(w), __builtin_popcount(w), __builtin_parity(w),
                   __builtin_ffs((int)w), __builtin_clrsb((int)w), __builtin_bswap32(w),
                   (unsigned)__builtin_bswap16((uint16_t)w));
        for (volatile unsigned n = 0; n < 64; n += 13)
            printf("  rot %2u: rotl64 %016" PRIx64 " rotr64 %016" PRIx64 " rotl32 %08" PRIx32
                   " rotr32 %08" PRIx32 "\n",
                   n, rotl64(v, n), rotr64(v, n), rotl32(w, n), rotr32(w, n));
    }
    printf("ffs(0) %d ffsll(0) %d popcount(0) %d clrsb(0) %d clrsb(-1) %d\n", __builtin_ffs(0),
           __builtin_ffsll(0), __builtin_popcount(0), __builtin_clrsb(0), __builtin_clrsb(-1));
    return 0;
}
