/* fcvt between floating point and integers at the limits: every
 * float/double -> w/wu/l/lu conversion in each static rounding mode, on
 * halfway cases, values just inside and outside the target range, -0, NaN
 * and infinities (invalid saturates: NaN and +inf to the maximum, -inf to
 * the minimum), printing the full 64-bit register (the 32-bit results are
 * sign-extended, even for wu) and fflags. Then integer -> FP conversions
 * that must round, and fcvt.s.d / fcvt.d.s with NaN canonicalisation. */
#include "guest.h"

static const uint64_t in_d[] = {
    0x0000000000000000, /* 0 */
    0x8000000000000000, /* -0 */
    0x3fe0000000000000, /* 0.5 */
    0x3ff8000000000000, /* 1.5 */
    0x4004000000000000, /* 2.5 */
    0xbfe0000000000000, /* -0.5 */
    0xbff8000000000000, /* -1.5 */
    0xbff0000000000000, /* -1 */
    0x3ff0000000000001, /* 1 + ulp */
    0x0000000000000001, /* min subnormal */
    0x41dfffffffe00000, /* 2^31 - 0.5 */
    0x41dfffffffc00000, /* 2^31 - 1 */
    0x41e0000000000000, /* 2^31 */
    0xc1e0000000000000, /* -2^31 */
    0xc1e0000000100000, /* -2^31 - 0.5 */
    0xc1e0000000200000, /* -2^31 - 1 */
    0x41efffffffe00000, /* 2^32 - 1 */
    0x41effffffff00000, /* 2^32 - 0.5 */
    0x41f0000000000000, /* 2^32 */
    0x43dfffffffffffff, /* largest double below 2^63 */
    0x43e0000000000000, /* 2^63 */
    0xc3e0000000000000, /* -2^63 */
    0xc3e0000000000001, /* just below -2^63 */
    0x43efffffffffffff, /* largest double below 2^64 */
    0x43f0000000000000, /* 2^64 */
    0x7fefffffffffffff, /* DBL_MAX */
    0x7ff0000000000000, /* inf */
    0xfff0000000000000, /* -inf */
    0x7ff8000000000000, /* qNaN */
    0xfff8000000000000, /* -qNaN */
    0x7ff4000000000000, /* sNaN */
};

static const uint32_t in_s[] = {
    0x00000000, 0x80000000, 0x3f000000, 0x3fc00000, 0x40200000, 0xbf000000, 0xbfc00000,
    0xbf800000, 0x3f800001, 0x00000001,
    0x4effffff, /* largest float below 2^31 */
    0x4f000000, /* 2^31 */
    0xcf000000, /* -2^31 */
    0xcf000001, /* just below -2^31 */
    0x4f7fffff, /* largest float below 2^32 */
    0x4f800000, /* 2^32 */
    0x5effffff, /* largest float below 2^63 */
    0x5f000000, /* 2^63 */
    0xdf000000, /* -2^63 */
    0xdf000001, /* just below -2^63 */
    0x5f7fffff, /* largest float below 2^64 */
    0x5f800000, /* 2^64 */
    0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7fa00000,
};

/* One function per (instruction, static rm); fsflags/frflags share the asm
 * block with the conversion so only its flags are seen. */
#define TO_INT(fname, mnemonic, ftype, from_bits, in_t, rm)                    \
    static uint64_t fname##_##rm(in_t a, unsigned *fl) {                      \
        uint64_t r;                                                           \
        __asm__ volatile("fsflags zero\n\t" mnemonic " %0, %2, " #rm "\n\tfrflags %1" \
                         : "=&r"(r), "=&r"(*fl)                               \
                         : "f"(from_bits(a)));                                \
        return r;                                                             \
    }
#define FROM_D(fname, mnemonic) TO_INT(fname, mnemonic, double, from_bits_d, uint64_t, rne) \
    TO_INT(fname, mnemonic, double, from_bits_d, uint64_t, rtz)                \
    TO_INT(fname, mnemonic, double, from_bits_d, uint64_t, rdn)                \
    TO_INT(fname, mnemonic, double, from_bits_d, uint64_t, rup)                \
    TO_INT(fname, mnemonic, double, from_bits_d, uint64_t, rmm)
#define FROM_S(fname, mnemonic) TO_INT(fname, mnemonic, float, from_bits_f, uint32_t, rne) \
    TO_INT(fname, mnemonic, float, from_bits_f, uint32_t, rtz)                 \
    TO_INT(fname, mnemonic, float, from_bits_f, uint32_t, rdn)                 \
    TO_INT(fname, mnemonic, float, from_bits_f, uint32_t, rup)                 \
    TO_INT(fname, mnemonic, float, from_bits_f, uint32_t, rmm)

FROM_D(w_d, "fcvt.w.d")
FROM_D(wu_d, "fcvt.wu.d")
FROM_D(l_d, "fcvt.l.d")
FROM_D(lu_d, "fcvt.lu.d")
FROM_S(w_s, "fcvt.w.s")
FROM_S(wu_s, "fcvt.wu.s")
FROM_S(l_s, "fcvt.l.s")
FROM_S(lu_s, "fcvt.lu.s")

typedef uint64_t (*cvt_d)(uint64_t, unsigned *);
typedef uint64_t (*cvt_s)(uint32_t, unsigned *);
#define ROW(fname, mnemonic) {mnemonic, {fname##_rne, fname##_rtz, fname##_rdn, fname##_rup, fname##_rmm}}

static const char *const rm_names[] = {"rne", "rtz", "rdn", "rup", "rmm"};

static void to_int(void) {
    static const struct {
        const char *name;
        cvt_d fn[5];
    } ops_d[] = {ROW(w_d, "fcvt.w.d"), ROW(wu_d, "fcvt.wu.d"), ROW(l_d, "fcvt.l.d"),
                 ROW(lu_d, "fcvt.lu.d")};
    static const struct {
        const char *name;
        cvt_s fn[5];
    } ops_s[] = {ROW(w_s, "fcvt.w.s"), ROW(wu_s, "fcvt.wu.s"), ROW(l_s, "fcvt.l.s"),
                 ROW(lu_s, "fcvt.lu.s")};
    unsigned fl;
    for (unsigned o = 0; o < 4; o++)
        for (unsigned i = 0; i < sizeof in_d / sizeof in_d[0]; i++)
            for (unsigned rm = 0; rm < 5; rm++) {
                uint64_t r = ops_d[o].fn[rm](in_d[i], &fl);
                printf("%s %s %016" PRIx64 " -> %016" PRIx64 " %s\n", ops_d[o].name,
                       rm_names[rm], in_d[i], r, flags_str(fl));
            }
    for (unsigned o = 0; o < 4; o++)
        for (unsigned i = 0; i < sizeof in_s / sizeof in_s[0]; i++)
            for (unsigned rm = 0; rm < 5; rm++) {
                uint64_t r = ops_s[o].fn[rm](in_s[i], &fl);
                printf("%s %s %08" PRIx32 " -> %016" PRIx64 " %s\n", ops_s[o].name,
                       rm_names[rm], in_s[i], r, flags_str(fl));
            }
}

/* Integer -> FP: exact for small values, rounded per mode for values with
 * more significant bits than the mantissa holds. */
#define FROM_INT(mnemonic, ftype, bits, rm)                                    \
    ({                                                                        \
        ftype r_;                                                             \
        __asm__ volatile("fsflags zero\n\t" mnemonic " %0, %2, " rm "\n\tfrflags %1" \
                         : "=&f"(r_), "=&r"(fl)                               \
                         : "r"(v));                                           \
        bits(r_);                                                             \
    })

static void from_int(void) {
    static const uint64_t ints[] = {
        0, 1, UINT64_MAX, 0x7fffffff, 0x80000000, 0xffffffff, 0x1000001, 0x1000003,
        0x20000000000001, 0x20000000000003, 0x7fffffffffffffff, 0x8000000000000000,
        0xfffffffffffff801, 0xffffffff80000001, 0x123456789abcdef1,
    };
    unsigned fl;
    for (unsigned i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        uint64_t v = ints[i];
#define ALL_RM(mnemonic, ftype, bits, fmt)                                     \
        printf("%-9s %016" PRIx64 " ->", mnemonic, v);                          \
        printf(" rne %" fmt " %s", FROM_INT(mnemonic, ftype, bits, "rne"), flags_str(fl)); \
        printf(" rtz %" fmt " %s", FROM_INT(mnemonic, ftype, bits, "rtz"), flags_str(fl)); \
        printf(" rdn %" fmt " %s", FROM_INT(mnemonic, ftype, bits, "rdn"), flags_str(fl)); \
        printf(" rup %" fmt " %s", FROM_INT(mnemonic, ftype, bits, "rup"), flags_str(fl)); \
        printf(" rmm %" fmt " %s\n", FROM_INT(mnemonic, ftype, bits, "rmm"), flags_str(fl))
        /* int32 -> double is always exact, so these take no rm. */
        double dw, dwu;
        __asm__ volatile("fsflags zero\n\tfcvt.d.w %0, %2\n\tfrflags %1" : "=&f"(dw), "=&r"(fl) : "r"(v));
        printf("fcvt.d.w  %016" PRIx64 " -> %016" PRIx64 " %s\n", v, bits_d(dw), flags_str(fl));
        __asm__ volatile("fsflags zero\n\tfcvt.d.wu %0, %2\n\tfrflags %1" : "=&f"(dwu), "=&r"(fl) : "r"(v));
        printf("fcvt.d.wu %016" PRIx64 " -> %016" PRIx64 " %s\n", v, bits_d(dwu), flags_str(fl));
        ALL_RM("fcvt.d.l", double, bits_d, PRIx64);
        ALL_RM("fcvt.d.lu", double, bits_d, PRIx64);
        ALL_RM("fcvt.s.w", float, bits_f, PRIx32);
        ALL_RM("fcvt.s.wu", float, bits_f, PRIx32);
        ALL_RM("fcvt.s.l", float, bits_f, PRIx32);
        ALL_RM("fcvt.s.lu", float, bits_f, PRIx32);
#undef ALL_RM
    }
}

/* Between formats: narrowing rounds per mode and overflows or underflows;
 * any NaN input gives the canonical NaN (payloads are not propagated). */
static void between_formats(void) {
    static const uint64_t doubles[] = {
        0x3ff0000000000001, 0x3fd5555555555555, 0xbfd5555555555555, 0x47efffffffffffff,
        0x47f0000000000000, 0x36a0000000000000, 0x3690000000000000, 0x0000000000000001,
        0x8000000000000000, 0x7ff0000000000000, 0x7ff8000000000001, 0xfff4000000000000,
    };
    static const uint32_t floats[] = {0x3eaaaaab, 0x00000001, 0x7f7fffff, 0x7fc00001, 0xffa00000,
                                      0xff800000, 0x80000000};
    unsigned fl;
    for (unsigned i = 0; i < sizeof doubles / sizeof doubles[0]; i++) {
        double v = from_bits_d(doubles[i]);
        printf("fcvt.s.d %016" PRIx64 " ->", doubles[i]);
#define NARROW(rm)                                                             \
        do {                                                                  \
            float r;                                                          \
            __asm__ volatile("fsflags zero\n\tfcvt.s.d %0, %2, " rm "\n\tfrflags %1" \
                             : "=&f"(r), "=&r"(fl)                            \
                             : "f"(v));                                       \
            printf(" %s %08" PRIx32 " %s", rm, bits_f(r), flags_str(fl));     \
        } while (0)
        NARROW("rne");
        NARROW("rtz");
        NARROW("rdn");
        NARROW("rup");
        NARROW("rmm");
#undef NARROW
        printf("\n");
    }
    for (unsigned i = 0; i < sizeof floats / sizeof floats[0]; i++) {
        float v = from_bits_f(floats[i]);
        double r;
        __asm__ volatile("fsflags zero\n\tfcvt.d.s %0, %2\n\tfrflags %1"
                         : "=&f"(r), "=&r"(fl)
                         : "f"(v));
        printf("fcvt.d.s %08" PRIx32 " -> %016" PRIx64 " %s\n", floats[i], bits_d(r),
               flags_str(fl));
    }
}

/* What C casts compile to: saturation is the ISA's, not C's (out-of-range
 * casts are undefined in C, so only in-range values are cast here). */
static void c_casts(void) {
    volatile double d[] = {-2.9, -0.1, 0.9, 2147483647.9, -2147483648.9};
    for (unsigned i = 0; i < sizeof d / sizeof d[0]; i++)
        printf("(int)%.17g = %d\n", d[i], (int)d[i]);
    volatile double big_neg = -9.2e18, big_pos = 1.8e19, u32 = 4294967295.9;
    volatile float f = -16777217.0f;
    printf("(long)%.17g = %ld\n", big_neg, (long)big_neg);
    printf("(unsigned long)%.17g = %lu\n", big_pos, (unsigned long)big_pos);
    printf("(unsigned)%.17g = %u\n", u32, (unsigned)u32);
    printf("(long)%.9g = %ld\n", f, (long)f);
}

int main(void) {
    to_int();
    from_int();
    between_formats();
    c_casts();
    return 0;
}
