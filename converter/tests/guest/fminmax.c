/* fmin/fmax in F and D: a single NaN operand gives the other operand, two
 * NaNs give the canonical NaN, a signalling NaN raises invalid, and -0 is
 * less than +0 (the 2.2 spec's IEEE 754-2019 minimumNumber/maximumNumber).
 * Also the C library's fmin/fmax/fminf/fmaxf, which compile to them. */
#include <math.h>

#include "guest.h"

static const uint64_t vals_d[] = {
    0x0000000000000000, /* +0 */
    0x8000000000000000, /* -0 */
    0x3ff0000000000000, /* 1 */
    0xbff0000000000000, /* -1 */
    0x0000000000000001, /* min subnormal */
    0x7ff0000000000000, /* inf */
    0xfff0000000000000, /* -inf */
    0x7ff8000000000000, /* canonical qNaN */
    0xfff8000000000123, /* negative qNaN with payload */
    0x7ff4000000000000, /* sNaN */
};
static const uint32_t vals_s[] = {0x00000000, 0x80000000, 0x3f800000, 0xbf800000, 0x00000001,
                                  0x7f800000, 0xff800000, 0x7fc00000, 0xffc00123, 0x7fa00000};

#define MINMAX_D(insn)                                                        \
    static uint64_t insn##_d(uint64_t a, uint64_t b, unsigned *fl) {          \
        double r;                                                             \
        __asm__ volatile("fsflags zero\n\t" #insn ".d %0, %2, %3\n\tfrflags %1" \
                         : "=&f"(r), "=&r"(*fl)                               \
                         : "f"(from_bits_d(a)), "f"(from_bits_d(b)));         \
        return bits_d(r);                                                     \
    }
#define MINMAX_S(insn)                                                        \
    static uint32_t insn##_s(uint32_t a, uint32_t b, unsigned *fl) {          \
        float r;                                                              \
        __asm__ volatile("fsflags zero\n\t" #insn ".s %0, %2, %3\n\tfrflags %1" \
                         : "=&f"(r), "=&r"(*fl)                               \
                         : "f"(from_bits_f(a)), "f"(from_bits_f(b)));         \
        return bits_f(r);                                                     \
    }
MINMAX_D(fmin)
MINMAX_D(fmax)
MINMAX_S(fmin)
MINMAX_S(fmax)

int main(void) {
    unsigned fl1, fl2;
    for (unsigned i = 0; i < sizeof vals_d / sizeof vals_d[0]; i++)
        for (unsigned j = 0; j < sizeof vals_d / sizeof vals_d[0]; j++) {
            uint64_t mn = fmin_d(vals_d[i], vals_d[j], &fl1);
            uint64_t mx = fmax_d(vals_d[i], vals_d[j], &fl2);
            printf("d %016" PRIx64 " %016" PRIx64 " min %016" PRIx64 " %s max %016" PRIx64 " %s\n",
                   vals_d[i], vals_d[j], mn, flags_str(fl1), mx, flags_str(fl2));
        }
    for (unsigned i = 0; i < sizeof vals_s / sizeof vals_s[0]; i++)
        for (unsigned j = 0; j < sizeof vals_s / sizeof vals_s[0]; j++) {
            uint32_t mn = fmin_s(vals_s[i], vals_s[j], &fl1);
            uint32_t mx = fmax_s(vals_s[i], vals_s[j], &fl2);
            printf("s %08" PRIx32 " %08" PRIx32 " min %08" PRIx32 " %s max %08" PRIx32 " %s\n",
                   vals_s[i], vals_s[j], mn, flags_str(fl1), mx, flags_str(fl2));
        }
    volatile double nan = NAN, mzero = -0.0, pzero = 0.0, one = 1.0;
    volatile float nanf = NAN, onef = 1.0f;
    printf("libm: fmin(nan,1)=%g fmax(1,nan)=%g fmin(-0,+0)=%g fmax(-0,+0)=%g fminf(nan,1)=%g "
           "fmaxf(1,nan)=%g fmin(nan,nan) is nan %d\n",
           fmin(nan, one), fmax(one, nan), fmin(mzero, pzero), fmax(mzero, pzero),
           (double)fminf(nanf, onef), (double)fmaxf(onef, nanf), isnan(fmin(nan, nan)));
    return 0;
}
