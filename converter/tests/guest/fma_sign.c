/* Fused multiply-add (fmadd/fmsub/fnmadd/fnmsub, F and D) rounded once in
 * each rounding mode, including 0 * inf + qNaN (invalid) and the sign of
 * exact zero results; and the sign-injection instructions fsgnj/fsgnjn/
 * fsgnjx, which copy NaN payloads untouched and raise no flags. */
#include <math.h>

#include "guest.h"

static const uint64_t triples_d[][3] = {
    /* (1+u)(1-u/2)-1: only a fused operation keeps the tail */
    {0x3ff0000000000001, 0x3fefffffffffffff, 0xbff0000000000000},
    {0x3ff0000000000000, 0x3ff0000000000000, 0x3c90000000000000}, /* 1*1 + 2^-54 */
    {0x3ff0000000000000, 0x3ff0000000000000, 0xbff0000000000000}, /* 1*1 - 1: exact zero */
    {0x7ff0000000000000, 0x0000000000000000, 0x7ff8000000000000}, /* inf*0 + qNaN */
    {0x7ff0000000000000, 0x3ff0000000000000, 0xfff0000000000000}, /* inf - inf */
    {0x7fefffffffffffff, 0x4000000000000000, 0xffefffffffffffff}, /* overflowing product, recovered */
    {0x0010000000000000, 0x3cb0000000000000, 0x0000000000000000}, /* product underflows */
    {0x400921fb54442d18, 0x4005bf0a8b145769, 0xc01b4b1d7e7e5a5e}, /* pi*e - ~6.8 */
    {0x7ff4000000000000, 0x3ff0000000000000, 0x3ff0000000000000}, /* sNaN */
};
static const uint32_t triples_s[][3] = {
    {0x3f800001, 0x3f7fffff, 0xbf800000},
    {0x3f800000, 0x3f800000, 0x33000000},
    {0x3f800000, 0x3f800000, 0xbf800000},
    {0x7f800000, 0x00000000, 0x7fc00000},
    {0x7f7fffff, 0x40000000, 0xff7fffff},
    {0x40490fdb, 0x402df854, 0xc0da58ec},
    {0x7fa00000, 0x3f800000, 0x3f800000},
};

#define FMA_D(insn, rm)                                                        \
    static uint64_t insn##_d_##rm(const uint64_t *t, unsigned *fl) {          \
        double r;                                                             \
        __asm__ volatile("fsflags zero\n\t" #insn ".d %0, %2, %3, %4, " #rm "\n\tfrflags %1" \
                         : "=&f"(r), "=&r"(*fl)                               \
                         : "f"(from_bits_d(t[0])), "f"(from_bits_d(t[1])),    \
                           "f"(from_bits_d(t[2])));                           \
        return bits_d(r);                                                     \
    }
#define FMA_S(insn, rm)                                                        \
    static uint64_t insn##_s_##rm(const uint32_t *t, unsigned *fl) {          \
        float r;                                                              \
        __asm__ volatile("fsflags zero\n\t" #insn ".s %0, %2, %3, %4, " #rm "\n\tfrflags %1" \
                         : "=&f"(r), "=&r"(*fl)                               \
                         : "f"(from_bits_f(t[0])), "f"(from_bits_f(t[1])),    \
                           "f"(from_bits_f(t[2])));                           \
        return bits_f(r);                                                     \
    }
#define EACH_RM(m, insn) m(insn, rne) m(insn, rtz) m(insn, rdn) m(insn, rup) m(insn, rmm)
EACH_RM(FMA_D, fmadd)
EACH_RM(FMA_D, fmsub)
EACH_RM(FMA_D, fnmadd)
EACH_RM(FMA_D, fnmsub)
EACH_RM(FMA_S, fmadd)
EACH_RM(FMA_S, fmsub)
EACH_RM(FMA_S, fnmadd)
EACH_RM(FMA_S, fnmsub)

typedef uint64_t (*fma_d)(const uint64_t *, unsigned *);
typedef uint64_t (*fma_s)(const uint32_t *, unsigned *);
#define ROW(insn, sfx)                                                         \
    {#insn "." #sfx,                                                          \
     {insn##_##sfx##_rne, insn##_##sfx##_rtz, insn##_##sfx##_rdn, insn##_##sfx##_rup,  \
      insn##_##sfx##_rmm}}
static const char *const rm_names[] = {"rne", "rtz", "rdn", "rup", "rmm"};

static void fused(void) {
    static const struct {
        const char *name;
        fma_d fn[5];
    } ops_d[] = {ROW(fmadd, d), ROW(fmsub, d), ROW(fnmadd, d), ROW(fnmsub, d)};
    static const struct {
        const char *name;
        fma_s fn[5];
    } ops_s[] = {ROW(fmadd, s), ROW(fmsub, s), ROW(fnmadd, s), ROW(fnmsub, s)};
    unsigned fl;
    for (unsigned o = 0; o < 4; o++)
        for (unsigned t = 0; t < sizeof triples_d / sizeof triples_d[0]; t++) {
            printf("%s %016" PRIx64 " %016" PRIx64 " %016" PRIx64 ":", ops_d[o].name,
                   triples_d[t][0], triples_d[t][1], triples_d[t][2]);
            for (unsigned rm = 0; rm < 5; rm++) {
                uint64_t r = ops_d[o].fn[rm](triples_d[t], &fl);
                printf(" %s %016" PRIx64 " %s", rm_names[rm], r, flags_str(fl));
            }
            printf("\n");
        }
    for (unsigned o = 0; o < 4; o++)
        for (unsigned t = 0; t < sizeof triples_s / sizeof triples_s[0]; t++) {
            printf("%s %08" PRIx32 " %08" PRIx32 " %08" PRIx32 ":", ops_s[o].name,
                   triples_s[t][0], triples_s[t][1], triples_s[t][2]);
            for (unsigned rm = 0; rm < 5; rm++) {
                uint64_t r = ops_s[o].fn[rm](triples_s[t], &fl);
                printf(" %s %08" PRIx64 " %s", rm_names[rm], r, flags_str(fl));
            }
            printf("\n");
        }
    volatile double a = 0x1.0000000000001p0, b = 0x1.fffffffffffffp-1, c = -1.0;
    printf("libm fma %a, fmaf %a\n", fma(a, b, c),
           (double)fmaf((float)0x1.000002p0, (float)0x1.fffffep-1, -1.0f));
}

static void sign_injection(void) {
    static const uint64_t d[] = {0x3ff0000000000000, 0xbff0000000000000, 0x7ff4000000000001,
                                 0xfff8000000000002, 0x8000000000000000};
    static const uint32_t s[] = {0x3f800000, 0xbf800000, 0x7fa00001, 0xffc00002, 0x80000000};
    for (unsigned i = 0; i < 5; i++)
        for (unsigned j = 0; j < 5; j++) {
            double x = from_bits_d(d[i]), y = from_bits_d(d[j]), r1, r2, r3;
            unsigned fl;
            __asm__ volatile("fsflags zero\n\tfsgnj.d %0, %4, %5\n\tfsgnjn.d %1, %4, %5\n\t"
                             "fsgnjx.d %2, %4, %5\n\tfrflags %3"
                             : "=&f"(r1), "=&f"(r2), "=&f"(r3), "=&r"(fl)
                             : "f"(x), "f"(y));
            printf("fsgnj*.d %016" PRIx64 " %016" PRIx64 " -> %016" PRIx64 " %016" PRIx64
                   " %016" PRIx64 " %s\n",
                   d[i], d[j], bits_d(r1), bits_d(r2), bits_d(r3), flags_str(fl));
            float xs = from_bits_f(s[i]), ys = from_bits_f(s[j]), q1, q2, q3;
            __asm__ volatile("fsflags zero\n\tfsgnj.s %0, %4, %5\n\tfsgnjn.s %1, %4, %5\n\t"
                             "fsgnjx.s %2, %4, %5\n\tfrflags %3"
                             : "=&f"(q1), "=&f"(q2), "=&f"(q3), "=&r"(fl)
                             : "f"(xs), "f"(ys));
            printf("fsgnj*.s %08" PRIx32 " %08" PRIx32 " -> %08" PRIx32 " %08" PRIx32 " %08" PRIx32
                   " %s\n",
                   s[i], s[j], bits_f(q1), bits_f(q2), bits_f(q3), flags_str(fl));
        }
    /* fneg/fabs are fsgnjn/fsgnjx with both operands the same register. */
    volatile double v = -0.0, w = NAN;
    printf("fabs(-0)=%a -(-0)=%a copysign(1,-nan)=%a\n", fabs(v), -v, copysign(1.0, -w));
}

int main(void) {
    fused();
    sign_injection();
    return 0;
}
