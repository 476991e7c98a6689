/* F and D arithmetic in every rounding mode: fadd/fsub/fmul/fdiv/fsqrt with
 * a static rm (rne, rtz, rdn, rup, rmm) and with rm=dyn under each frm
 * value, printing result bits and the accrued fflags; then the same through
 * fesetround and C arithmetic, as glibc code sees it. Inputs are chosen to
 * round differently per mode, overflow, underflow to subnormals, divide by
 * zero and raise invalid (including signalling NaNs). */
#include <fenv.h>
#include <float.h>
#include <math.h>

#include "guest.h"

static const uint64_t pairs_d[][2] = {
    {0x3ff0000000000000, 0x4008000000000000}, /* 1, 3 */
    {0xbff0000000000000, 0x4008000000000000}, /* -1, 3 */
    {0x4000000000000000, 0x4008000000000000}, /* 2, 3 */
    {0x3ff0000000000000, 0x3c80000000000000}, /* 1, 2^-55 */
    {0xbff0000000000000, 0xbc80000000000000}, /* -1, -2^-55 */
    {0x3ff0000000000000, 0xbff0000000000000}, /* 1, -1: exact zero, sign by mode */
    {0x7fefffffffffffff, 0x7fefffffffffffff}, /* DBL_MAX, DBL_MAX */
    {0xffefffffffffffff, 0x7fefffffffffffff}, /* -DBL_MAX, DBL_MAX */
    {0x0010000000000000, 0x3fe0000000000000}, /* DBL_MIN, 0.5 */
    {0x0000000000000001, 0x3fe0000000000000}, /* min subnormal, 0.5 */
    {0x0000000000000003, 0x3fe0000000000000}, /* 3 * min subnormal, 0.5 */
    {0x0010000000000001, 0x3fefffffffffffff}, /* just above DBL_MIN, just below 1 */
    {0x7ff0000000000000, 0x7ff0000000000000}, /* inf, inf */
    {0x7ff0000000000000, 0x0000000000000000}, /* inf, 0 */
    {0x0000000000000000, 0x0000000000000000}, /* 0, 0 */
    {0x8000000000000000, 0x0000000000000000}, /* -0, 0 */
    {0x3ff0000000000000, 0x0000000000000000}, /* 1, 0 */
    {0x7ff4000000000000, 0x3ff0000000000000}, /* sNaN, 1 */
    {0x7ff8000000000001, 0x3ff0000000000000}, /* qNaN with payload, 1 */
    {0xfff8000000000000, 0x7ff4000000000000}, /* -qNaN, sNaN */
    {0x4330000000000000, 0x3fe8000000000000}, /* 2^52, 0.75 */
    {0x400921fb54442d18, 0x4005bf0a8b145769}, /* pi, e */
};

static const uint32_t pairs_s[][2] = {
    {0x3f800000, 0x40400000}, /* 1, 3 */
    {0xbf800000, 0x40400000}, /* -1, 3 */
    {0x40000000, 0x40400000}, /* 2, 3 */
    {0x3f800000, 0x33000000}, /* 1, 2^-25 */
    {0xbf800000, 0xb3000000}, /* -1, -2^-25 */
    {0x3f800000, 0xbf800000}, /* 1, -1 */
    {0x7f7fffff, 0x7f7fffff}, /* FLT_MAX, FLT_MAX */
    {0x00800000, 0x3f000000}, /* FLT_MIN, 0.5 */
    {0x00000001, 0x3f000000}, /* min subnormal, 0.5 */
    {0x00000003, 0x3f000000}, /* 3 * min subnormal, 0.5 */
    {0x7f800000, 0x7f800000}, /* inf, inf */
    {0x7f800000, 0x00000000}, /* inf, 0 */
    {0x80000000, 0x00000000}, /* -0, 0 */
    {0x3f800000, 0x00000000}, /* 1, 0 */
    {0x7fa00000, 0x3f800000}, /* sNaN, 1 */
    {0x7fc00001, 0x3f800000}, /* qNaN with payload, 1 */
    {0x4b000000, 0x3f400000}, /* 2^23, 0.75 */
    {0x40490fdb, 0x402df854}, /* pi, e */
};

static const uint64_t sqrt_d[] = {
    0x4000000000000000, 0x4008000000000000, 0xbff0000000000000, 0x8000000000000000,
    0x7ff0000000000000, 0x0000000000000001, 0x7fefffffffffffff, 0x7ff4000000000000,
};
static const uint32_t sqrt_s[] = {
    0x40000000, 0x40400000, 0xbf800000, 0x80000000, 0x7f800000, 0x00000001, 0x7f7fffff, 0x7fa00000,
};

typedef uint64_t (*bin_d)(uint64_t, uint64_t, unsigned *);
typedef uint32_t (*bin_s)(uint32_t, uint32_t, unsigned *);
typedef uint64_t (*un_d)(uint64_t, unsigned *);
typedef uint32_t (*un_s)(uint32_t, unsigned *);

/* fsflags/frflags sit in the same asm block as the operation so nothing
 * else can touch fflags in between. */
#define BIN_D(op, rm)                                                         \
    static uint64_t op##_d_##rm(uint64_t a, uint64_t b, unsigned *fl) {       \
        double r;                                                             \
        __asm__ volatile("fsflags zero\n\t" #op ".d %0, %2, %3, " #rm "\n\tfrflags %1" \
                         : "=&f"(r), "=r"(*fl)                                \
                         : "f"(from_bits_d(a)), "f"(from_bits_d(b)));         \
        return bits_d(r);                                                     \
    }
#define BIN_S(op, rm)                                                         \
    static uint32_t op##_s_##rm(uint32_t a, uint32_t b, unsigned *fl) {       \
        float r;                                                              \
        __asm__ volatile("fsflags zero\n\t" #op ".s %0, %2, %3, " #rm "\n\tfrflags %1" \
                         : "=&f"(r), "=r"(*fl)                                \
                         : "f"(from_bits_f(a)), "f"(from_bits_f(b)));         \
        return bits_f(r);                                                     \
    }
#define SQRT(rm)                                                              \
    static uint64_t fsqrt_d_##rm(uint64_t a, unsigned *fl) {                  \
        double r;                                                             \
        __asm__ volatile("fsflags zero\n\tfsqrt.d %0, %2, " #rm "\n\tfrflags %1" \
                         : "=&f"(r), "=r"(*fl)                                \
                         : "f"(from_bits_d(a)));                              \
        return bits_d(r);                                                     \
    }                                                                         \
    static uint32_t fsqrt_s_##rm(uint32_t a, unsigned *fl) {                  \
        float r;                                                              \
        __asm__ volatile("fsflags zero\n\tfsqrt.s %0, %2, " #rm "\n\tfrflags %1" \
                         : "=&f"(r), "=r"(*fl)                                \
                         : "f"(from_bits_f(a)));                              \
        return bits_f(r);                                                     \
    }

#define EACH_RM(m, op) m(op, rne) m(op, rtz) m(op, rdn) m(op, rup) m(op, rmm) m(op, dyn)
EACH_RM(BIN_D, fadd)
EACH_RM(BIN_D, fsub)
EACH_RM(BIN_D, fmul)
EACH_RM(BIN_D, fdiv)
EACH_RM(BIN_S, fadd)
EACH_RM(BIN_S, fsub)
EACH_RM(BIN_S, fmul)
EACH_RM(BIN_S, fdiv)
SQRT(rne)
SQRT(rtz)
SQRT(rdn)
SQRT(rup)
SQRT(rmm)
SQRT(dyn)

#define ROW(op, suffix)                                                       \
    {#op, {op##_##suffix##_rne, op##_##suffix##_rtz, op##_##suffix##_rdn,    \
           op##_##suffix##_rup, op##_##suffix##_rmm}, op##_##suffix##_dyn}

static const char *const rm_names[] = {"rne", "rtz", "rdn", "rup", "rmm"};

static void set_frm(unsigned rm) { __asm__ volatile("fsrm %0" : : "r"(rm)); }

static void static_and_dyn(void) {
    static const struct {
        const char *name;
        bin_d fixed[5];
        bin_d dyn;
    } ops_d[] = {ROW(fadd, d), ROW(fsub, d), ROW(fmul, d), ROW(fdiv, d)};
    static const struct {
        const char *name;
        bin_s fixed[5];
        bin_s dyn;
    } ops_s[] = {ROW(fadd, s), ROW(fsub, s), ROW(fmul, s), ROW(fdiv, s)};
    static const struct {
        un_d fixed[5];
        un_d dyn;
    } sq_d = {{fsqrt_d_rne, fsqrt_d_rtz, fsqrt_d_rdn, fsqrt_d_rup, fsqrt_d_rmm}, fsqrt_d_dyn};
    static const struct {
        un_s fixed[5];
        un_s dyn;
    } sq_s = {{fsqrt_s_rne, fsqrt_s_rtz, fsqrt_s_rdn, fsqrt_s_rup, fsqrt_s_rmm}, fsqrt_s_dyn};
    unsigned fl, fl_dyn;

    for (unsigned o = 0; o < sizeof ops_d / sizeof ops_d[0]; o++)
        for (unsigned p = 0; p < sizeof pairs_d / sizeof pairs_d[0]; p++)
            for (unsigned rm = 0; rm < 5; rm++) {
                uint64_t r = ops_d[o].fixed[rm](pairs_d[p][0], pairs_d[p][1], &fl);
                set_frm(rm);
                uint64_t rd = ops_d[o].dyn(pairs_d[p][0], pairs_d[p][1], &fl_dyn);
                set_frm(0);
                printf("%s.d %s %016" PRIx64 " %016" PRIx64 " -> %016" PRIx64 " %s", ops_d[o].name,
                       rm_names[rm], pairs_d[p][0], pairs_d[p][1], r, flags_str(fl));
                printf(" dyn %016" PRIx64 " %s\n", rd, flags_str(fl_dyn));
            }
    for (unsigned o = 0; o < sizeof ops_s / sizeof ops_s[0]; o++)
        for (unsigned p = 0; p < sizeof pairs_s / sizeof pairs_s[0]; p++)
            for (unsigned rm = 0; rm < 5; rm++) {
                uint32_t r = ops_s[o].fixed[rm](pairs_s[p][0], pairs_s[p][1], &fl);
                set_frm(rm);
                uint32_t rd = ops_s[o].dyn(pairs_s[p][0], pairs_s[p][1], &fl_dyn);
                set_frm(0);
                printf("%s.s %s %08" PRIx32 " %08" PRIx32 " -> %08" PRIx32 " %s", ops_s[o].name,
                       rm_names[rm], pairs_s[p][0], pairs_s[p][1], r, flags_str(fl));
                printf(" dyn %08" PRIx32 " %s\n", rd, flags_str(fl_dyn));
            }
    for (unsigned i = 0; i < sizeof sqrt_d / sizeof sqrt_d[0]; i++)
        for (unsigned rm = 0; rm < 5; rm++) {
            uint64_t r = sq_d.fixed[rm](sqrt_d[i], &fl);
            set_frm(rm);
            uint64_t rd = sq_d.dyn(sqrt_d[i], &fl_dyn);
            set_frm(0);
            printf("fsqrt.d %s %016" PRIx64 " -> %016" PRIx64 " %s", rm_names[rm], sqrt_d[i], r,
                   flags_str(fl));
            printf(" dyn %016" PRIx64 " %s\n", rd, flags_str(fl_dyn));
        }
    for (unsigned i = 0; i < sizeof sqrt_s / sizeof sqrt_s[0]; i++)
        for (unsigned rm = 0; rm < 5; rm++) {
            uint32_t r = sq_s.fixed[rm](sqrt_s[i], &fl);
            set_frm(rm);
            uint32_t rd = sq_s.dyn(sqrt_s[i], &fl_dyn);
            set_frm(0);
            printf("fsqrt.s %s %08" PRIx32 " -> %08" PRIx32 " %s", rm_names[rm], sqrt_s[i], r,
                   flags_str(fl));
            printf(" dyn %08" PRIx32 " %s\n", rd, flags_str(fl_dyn));
        }
}

/* fflags accrue: two inexact operations in a row and an invalid one
 * leave the union of their flags. */
static void accrual(void) {
    volatile double third = 1.0 / 3.0, big = DBL_MAX, zero = 0.0;
    feclearexcept(FE_ALL_EXCEPT);
    volatile double r = third * 3.0;
    r = big * 2.0;
    printf("accrued after inexact+overflow: %s\n", flags_str(read_fflags()));
    r = zero / zero;
    printf("accrued after 0/0: %s (r is nan: %d)\n", flags_str(read_fflags()), isnan(r));
    clear_fflags();
    printf("after fsflags zero: %s\n", flags_str(read_fflags()));
}

static unsigned fe_to_fflags(int fe) {
    /* glibc's FE_* values are the fflags bits themselves on riscv. */
    return (unsigned)fe & 0x1f;
}

static void via_fenv(void) {
    static const struct {
        int mode;
        const char *name;
    } modes[] = {{FE_TONEAREST, "FE_TONEAREST"},
                 {FE_TOWARDZERO, "FE_TOWARDZERO"},
                 {FE_DOWNWARD, "FE_DOWNWARD"},
                 {FE_UPWARD, "FE_UPWARD"}};
    volatile double one = 1.0, three = 3.0, minus_one = -1.0, tiny = 0x1p-60, two = 2.0;
    volatile float onef = 1.0f, threef = 3.0f;
    for (unsigned m = 0; m < 4; m++) {
        int rc = fesetround(modes[m].mode);
        feclearexcept(FE_ALL_EXCEPT);
        volatile double q = one / three, nq = minus_one / three, s = one + tiny,
                        ns = minus_one - tiny, z = one + minus_one, sq = sqrt(two);
        volatile float qf = onef / threef;
        volatile long rint_l = lrint(2.5), rint_m = lrint(-2.5);
        volatile double nearby = nearbyint(0.5), rnd = rint(-1.5);
        int flags = fetestexcept(FE_ALL_EXCEPT);
        printf("%s: set %d get %d 1/3=%a -1/3=%a 1+2^-60=%a -1-2^-60=%a 1-1=%a sqrt2=%a "
               "1f/3f=%a lrint(2.5)=%ld lrint(-2.5)=%ld nearbyint(0.5)=%a rint(-1.5)=%a flags %s\n",
               modes[m].name, rc, fegetround() == modes[m].mode, q, nq, s, ns, z, sq, (double)qf,
               (long)rint_l, (long)rint_m, nearby, rnd, flags_str(fe_to_fflags(flags)));
    }
    fesetround(FE_TONEAREST);
    printf("fesetround(bogus) rejects: %d\n", fesetround(0x40) != 0);
    printf("fegetround back to nearest: %d\n", fegetround() == FE_TONEAREST);

    fenv_t env;
    fesetround(FE_UPWARD);
    feraiseexcept(FE_INEXACT | FE_DIVBYZERO);
    fegetenv(&env);
    fesetround(FE_TONEAREST);
    feclearexcept(FE_ALL_EXCEPT);
    fesetenv(&env);
    printf("fesetenv restores: round up %d flags %s\n", fegetround() == FE_UPWARD,
           flags_str(fe_to_fflags(fetestexcept(FE_ALL_EXCEPT))));
    fesetenv(FE_DFL_ENV);
    printf("FE_DFL_ENV: nearest %d flags %s\n", fegetround() == FE_TONEAREST,
           flags_str(fe_to_fflags(fetestexcept(FE_ALL_EXCEPT))));
}

int main(void) {
    static_and_dyn();
    accrual();
    via_fenv();
    return 0;
}
