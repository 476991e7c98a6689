/* Shifts: register amounts use only the low 6 bits (5 for the *w forms),
 * immediate forms at 0/1/31/32/63, and the sign extension of sllw, srlw and
 * sraw results, whose bit 31 decides the upper half. */
#include "guest.h"

static const uint64_t values[] = {
    1,
    UINT64_MAX,
    0x80000000,
    0x7fffffff,
    0x8000000000000000,
    0x00000000ffffffff,
    0x123456789abcdef0,
    0xfedcba9876543210,
};
#define NVALUES (sizeof values / sizeof values[0])

/* Amounts past 31 and 63 check the masking of the shift amount. */
static const uint64_t amounts[] = {0, 1, 7, 31, 32, 33, 63, 64, 65, 95, 127, 0xffffffffffffffc1};
#define NAMOUNTS (sizeof amounts / sizeof amounts[0])

#define REG_SHIFT(insn)                                                       \
    for (unsigned i = 0; i < NVALUES; i++)                                    \
        for (unsigned j = 0; j < NAMOUNTS; j++)                               \
    printf("%-4s %016" PRIx64 " by %" PRIu64 " -> %016" PRIx64 "\n", insn, values[i], \
           amounts[j], RR(insn, values[i], amounts[j]))

#define IMM_SHIFT(insn, sh)                                                   \
    for (unsigned i = 0; i < NVALUES; i++)                                    \
    printf("%-5s %016" PRIx64 " by %d -> %016" PRIx64 "\n", insn, values[i], sh, \
           RI(insn, values[i], sh))

int main(void) {
    REG_SHIFT("sll");
    REG_SHIFT("srl");
    REG_SHIFT("sra");
    REG_SHIFT("sllw");
    REG_SHIFT("srlw");
    REG_SHIFT("sraw");
    IMM_SHIFT("slli", 0);
    IMM_SHIFT("slli", 1);
    IMM_SHIFT("slli", 31);
    IMM_SHIFT("slli", 32);
    IMM_SHIFT("slli", 63);
    IMM_SHIFT("srli", 0);
    IMM_SHIFT("srli", 1);
    IMM_SHIFT("srli", 31);
    IMM_SHIFT("srli", 32);
    IMM_SHIFT("srli", 63);
    IMM_SHIFT("srai", 0);
    IMM_SHIFT("srai", 1);
    IMM_SHIFT("srai", 31);
    IMM_SHIFT("srai", 32);
    IMM_SHIFT("srai", 63);
    IMM_SHIFT("slliw", 0);
    IMM_SHIFT("slliw", 1);
    IMM_SHIFT("slliw", 31);
    IMM_SHIFT("srliw", 0);
    IMM_SHIFT("srliw", 1);
    IMM_SHIFT("srliw", 31);
    IMM_SHIFT("sraiw", 0);
    IMM_SHIFT("sraiw", 1);
    IMM_SHIFT("sraiw", 31);
    /* Compiler-generated shifts of a variable amount, for every amount. */
    volatile uint64_t v = 0x8123456789abcdef;
    volatile int64_t s = (int64_t)0x8123456789abcdef;
    volatile uint32_t w = 0x89abcdef;
    volatile int32_t sw = (int32_t)0x89abcdef;
    for (volatile unsigned n = 0; n < 64; n++)
        printf("%2u: %016" PRIx64 " %016" PRIx64 " %016" PRIx64 " %08" PRIx32 " %08" PRIx32
               " %08" PRIx32 "\n",
               n, v << n, v >> n, (uint64_t)(s >> n), w << (n & 31), w >> (n & 31),
               (uint32_t)(sw >> (n & 31)));
    return 0;
}
