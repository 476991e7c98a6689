/* feq/flt/fle in F and D: results for ordered pairs, -0 == +0, and NaNs.
 * feq raises invalid only for signalling NaNs; flt and fle raise it for
 * any NaN. Also C comparisons and the isless family, printing whatever
 * flags the code gcc generates for them leaves. */
#include <math.h>

#include "guest.h"

static const uint64_t vals_d[] = {
    0x0000000000000000, 0x8000000000000000, 0x3ff0000000000000, 0xbff0000000000000,
    0x0000000000000001, 0x7fefffffffffffff, 0x7ff0000000000000, 0xfff0000000000000,
    0x7ff8000000000000, 0x7ff4000000000000,
};
static const uint32_t vals_s[] = {0x00000000, 0x80000000, 0x3f800000, 0xbf800000, 0x00000001,
                                  0x7f7fffff, 0x7f800000, 0xff800000, 0x7fc00000, 0x7fa00000};

#define CMP(insn, ftype, from_bits, in_t)                                     \
    static uint64_t insn(in_t a, in_t b, unsigned *fl) {                      \
        uint64_t r;                                                           \
        __asm__ volatile("fsflags zero\n\t" CMP_MNEMONIC_##insn " %0, %2, %3\n\tfrflags %1" \
                         : "=&r"(r), "=&r"(*fl)                               \
                         : "f"(from_bits(a)), "f"(from_bits(b)));             \
        return r;                                                             \
    }
#define CMP_MNEMONIC_feq_d "feq.d"
#define CMP_MNEMONIC_flt_d "flt.d"
#define CMP_MNEMONIC_fle_d "fle.d"
#define CMP_MNEMONIC_feq_s "feq.s"
#define CMP_MNEMONIC_flt_s "flt.s"
#define CMP_MNEMONIC_fle_s "fle.s"
CMP(feq_d, double, from_bits_d, uint64_t)
CMP(flt_d, double, from_bits_d, uint64_t)
CMP(fle_d, double, from_bits_d, uint64_t)
CMP(feq_s, float, from_bits_f, uint32_t)
CMP(flt_s, float, from_bits_f, uint32_t)
CMP(fle_s, float, from_bits_f, uint32_t)

int main(void) {
    unsigned f1, f2, f3;
    for (unsigned i = 0; i < sizeof vals_d / sizeof vals_d[0]; i++)
        for (unsigned j = 0; j < sizeof vals_d / sizeof vals_d[0]; j++) {
            uint64_t a = vals_d[i], b = vals_d[j];
            uint64_t eq = feq_d(a, b, &f1), lt = flt_d(a, b, &f2), le = fle_d(a, b, &f3);
            printf("d %016" PRIx64 " %016" PRIx64 " eq %" PRIu64 " %s lt %" PRIu64 " %s le %" PRIu64
                   " %s\n",
                   a, b, eq, flags_str(f1), lt, flags_str(f2), le, flags_str(f3));
        }
    for (unsigned i = 0; i < sizeof vals_s / sizeof vals_s[0]; i++)
        for (unsigned j = 0; j < sizeof vals_s / sizeof vals_s[0]; j++) {
            uint32_t a = vals_s[i], b = vals_s[j];
            uint64_t eq = feq_s(a, b, &f1), lt = flt_s(a, b, &f2), le = fle_s(a, b, &f3);
            printf("s %08" PRIx32 " %08" PRIx32 " eq %" PRIu64 " %s lt %" PRIu64 " %s le %" PRIu64
                   " %s\n",
                   a, b, eq, flags_str(f1), lt, flags_str(f2), le, flags_str(f3));
        }
    volatile double nan = NAN, one = 1.0;
    clear_fflags();
    int quiet = isless(nan, one) + isgreater(nan, one) + islessequal(nan, one) +
                isunordered(nan, one) * 10;
    unsigned quiet_flags = read_fflags();
    clear_fflags();
    int loud = (nan < one) + (nan == one) * 2 + (nan != one) * 4;
    unsigned loud_flags = read_fflags();
    printf("quiet compares %d %s, C operators %d %s\n", quiet, flags_str(quiet_flags), loud,
           flags_str(loud_flags));
    return 0;
}
