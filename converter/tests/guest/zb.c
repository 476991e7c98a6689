/* The bit-manipulation extensions gcc 12 can assemble: every Zba
 * (add.uw, sh[123]add[.uw], slli.uw), Zbb (andn, orn, xnor, clz[w],
 * ctz[w], cpop[w], min[u], max[u], sext.b/h, zext.h, rol[w], ror[i][w],
 * orc.b, rev8) and Zbs (bclr, bext, binv, bset and their immediate forms)
 * instruction on values that expose the 32-bit and sign-extension cases.
 * The program is built for plain rv64gc, so the instructions are enabled
 * only inside the asm. qemu-riscv64 7.2, our reference, gets ctzw wrong when
 * the low word is zero (it counts on into the upper word: 63 for 1 << 63
 * instead of 32), so the harness builds its copy with -DCTZW_IN_C, which
 * computes ctzw from the specification's definition in C. */
#include "guest.h"

#define ZB ".option push\n\t.option arch, +zba, +zbb, +zbs\n\t"
#define ZB_END "\n\t.option pop"

#define ZRR(insn, a, b)                                                       \
    ({                                                                        \
        uint64_t r_;                                                          \
        __asm__ volatile(ZB insn " %0, %1, %2" ZB_END                         \
                         : "=r"(r_)                                           \
                         : "r"((uint64_t)(a)), "r"((uint64_t)(b)));           \
        r_;                                                                   \
    })
#define ZRI(insn, a, imm)                                                     \
    ({                                                                        \
        uint64_t r_;                                                          \
        __asm__ volatile(ZB insn " %0, %1, %2" ZB_END : "=r"(r_) : "r"((uint64_t)(a)), "i"(imm)); \
        r_;                                                                   \
    })
#define ZR1(insn, a)                                                          \
    ({                                                                        \
        uint64_t r_;                                                          \
        __asm__ volatile(ZB insn " %0, %1" ZB_END : "=r"(r_) : "r"((uint64_t)(a))); \
        r_;                                                                   \
    })

static const uint64_t values[] = {
    0, 1, UINT64_MAX, 0x80, 0x8000, 0x7fffffff, 0x80000000, 0xffffffff, 0x100000000,
    0x8000000000000000, 0x0123456789abcdef, 0xfedcba9876543210, 0x00ff00ff00000080,
};
#define NVALUES (sizeof values / sizeof values[0])
static const uint64_t seconds[] = {0, 1, 5, 31, 32, 63, 64, 0x80000001, UINT64_MAX,
                                   0x0123456789abcdef};
#define NSECONDS (sizeof seconds / sizeof seconds[0])

#ifdef CTZW_IN_C
#define CTZW(a) ((uint32_t)(a) == 0 ? 32u : (uint64_t)__builtin_ctz((uint32_t)(a)))
#else
#define CTZW(a) ZR1("ctzw", a)
#endif

#define PAIRS(insn)                                                           \
    for (unsigned i = 0; i < NVALUES; i++)                                    \
        for (unsigned j = 0; j < NSECONDS; j++)                               \
    printf("%-9s %016" PRIx64 " %016" PRIx64 " -> %016" PRIx64 "\n", insn, values[i], seconds[j], \
           ZRR(insn, values[i], seconds[j]))
#define UNARY(insn)                                                           \
    for (unsigned i = 0; i < NVALUES; i++)                                    \
    printf("%-9s %016" PRIx64 " -> %016" PRIx64 "\n", insn, values[i], ZR1(insn, values[i]))
#define IMM(insn, imm)                                                        \
    for (unsigned i = 0; i < NVALUES; i++)                                    \
    printf("%-9s %016" PRIx64 " %2d -> %016" PRIx64 "\n", insn, values[i], imm,  \
           ZRI(insn, values[i], imm))

int main(void) {
    /* Zba */
    PAIRS("add.uw");
    PAIRS("sh1add");
    PAIRS("sh2add");
    PAIRS("sh3add");
    PAIRS("sh1add.uw");
    PAIRS("sh2add.uw");
    PAIRS("sh3add.uw");
    IMM("slli.uw", 0);
    IMM("slli.uw", 3);
    IMM("slli.uw", 32);
    IMM("slli.uw", 63);
    /* Zbb */
    PAIRS("andn");
    PAIRS("orn");
    PAIRS("xnor");
    PAIRS("min");
    PAIRS("minu");
    PAIRS("max");
    PAIRS("maxu");
    PAIRS("rol");
    PAIRS("ror");
    PAIRS("rolw");
    PAIRS("rorw");
    UNARY("clz");
    UNARY("clzw");
    UNARY("ctz");
    for (unsigned i = 0; i < NVALUES; i++)
        printf("%-9s %016" PRIx64 " -> %016" PRIx64 "\n", "ctzw", values[i], CTZW(values[i]));
    UNARY("cpop");
    UNARY("cpopw");
    UNARY("sext.b");
    UNARY("sext.h");
    UNARY("zext.h");
    UNARY("orc.b");
    UNARY("rev8");
    IMM("rori", 0);
    IMM("rori", 1);
    IMM("rori", 32);
    IMM("rori", 63);
    IMM("roriw", 0);
    IMM("roriw", 1);
    IMM("roriw", 31);
    /* Zbs */
    PAIRS("bclr");
    PAIRS("bext");
    PAIRS("binv");
    PAIRS("bset");
    IMM("bclri", 0);
    IMM("bclri", 31);
    IMM("bclri", 63);
    IMM("bexti", 0);
    IMM("bexti", 31);
    IMM("bexti", 63);
    IMM("binvi", 7);
    IMM("binvi", 32);
    IMM("binvi", 63);
    IMM("bseti", 1);
    IMM("bseti", 31);
    IMM("bseti", 63);
    return 0;
}
