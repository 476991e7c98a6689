/*
 * fp_oracle: prints the result bits and fflags of every RISC-V F and D computational and
 * conversion instruction in every static rounding mode, over a deterministic set of operands
 * (zeros, subnormals, normal and overflow boundaries, rounding ties, infinities, quiet and
 * signaling NaNs, integers near 2^31, 2^32, 2^63 and 2^64, and random bit patterns).
 *
 * Run under qemu-riscv64, it is the oracle for emulator/src/riscv64/fp.rs
 * (emulator/tests/fp_oracle.rs recomputes every line). One line per case:
 *
 *     OP RM A B C RESULT FFLAGS
 *
 * all in hex but RM (decimal; 7 for instructions without a rounding mode). Unused operands
 * are 0. Single-precision values are the 32-bit pattern; integer results are the full 64-bit
 * destination register, so the sign extension of the W conversions is checked too.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

typedef uint64_t u64;

/* Instructions without a rounding mode operand, and the default for those that have one. */
#define NO_RM 7

/* One asm statement per static rounding mode, chosen by a switch. */
#define RM_SWITCH(rm, STMT)              \
    switch (rm) {                        \
    case 0: STMT(", rne"); break;        \
    case 1: STMT(", rtz"); break;        \
    case 2: STMT(", rdn"); break;        \
    case 3: STMT(", rup"); break;        \
    case 4: STMT(", rmm"); break;        \
    default: STMT(""); break;            \
    }

/* f, f -> f */
#define STMT_FF_F(insn, mv_in, mv_out, rms)                                             \
    __asm__ volatile(mv_in " ft0, %2\n\t" mv_in " ft1, %3\n\t"                          \
                     "csrw fflags, zero\n\t" insn " ft2, ft0, ft1" rms "\n\t"           \
                     "frflags %1\n\t" mv_out " %0, ft2"                                 \
                     : "=&r"(r), "=&r"(f) : "r"(a), "r"(b) : "ft0", "ft1", "ft2")

/* f -> f */
#define STMT_F_F(insn, mv_in, mv_out, rms)                                              \
    __asm__ volatile(mv_in " ft0, %2\n\t"                                               \
                     "csrw fflags, zero\n\t" insn " ft2, ft0" rms "\n\t"                \
                     "frflags %1\n\t" mv_out " %0, ft2"                                 \
                     : "=&r"(r), "=&r"(f) : "r"(a) : "ft0", "ft2")

/* f, f, f -> f */
#define STMT_FFF_F(insn, mv_in, mv_out, rms)                                            \
    __asm__ volatile(mv_in " ft0, %2\n\t" mv_in " ft1, %3\n\t" mv_in " ft2, %4\n\t"     \
                     "csrw fflags, zero\n\t" insn " ft3, ft0, ft1, ft2" rms "\n\t"      \
                     "frflags %1\n\t" mv_out " %0, ft3"                                 \
                     : "=&r"(r), "=&r"(f) : "r"(a), "r"(b), "r"(c)                      \
                     : "ft0", "ft1", "ft2", "ft3")

/* f, f -> x */
#define STMT_FF_X(insn, mv_in, rms)                                                     \
    __asm__ volatile(mv_in " ft0, %2\n\t" mv_in " ft1, %3\n\t"                          \
                     "csrw fflags, zero\n\t" insn " %0, ft0, ft1" rms "\n\t"            \
                     "frflags %1"                                                       \
                     : "=&r"(r), "=&r"(f) : "r"(a), "r"(b) : "ft0", "ft1")

/* f -> x */
#define STMT_F_X(insn, mv_in, rms)                                                      \
    __asm__ volatile(mv_in " ft0, %2\n\t"                                               \
                     "csrw fflags, zero\n\t" insn " %0, ft0" rms "\n\t"                 \
                     "frflags %1"                                                       \
                     : "=&r"(r), "=&r"(f) : "r"(a) : "ft0")

/* x -> f */
#define STMT_X_F(insn, mv_out, rms)                                                     \
    __asm__ volatile("csrw fflags, zero\n\t" insn " ft2, %2" rms "\n\t"                 \
                     "frflags %1\n\t" mv_out " %0, ft2"                                 \
                     : "=&r"(r), "=&r"(f) : "r"(a) : "ft2")

#define DEF1(fn, STMT_CALL)                                                             \
    static u64 fn(u64 a, int rm, u64 *fl) {                                             \
        u64 r, f;                                                                       \
        RM_SWITCH(rm, STMT_CALL)                                                        \
        *fl = f;                                                                        \
        return r;                                                                       \
    }
#define DEF2(fn, STMT_CALL)                                                             \
    static u64 fn(u64 a, u64 b, int rm, u64 *fl) {                                      \
        u64 r, f;                                                                       \
        RM_SWITCH(rm, STMT_CALL)                                                        \
        *fl = f;                                                                        \
        return r;                                                                       \
    }
#define DEF3(fn, STMT_CALL)                                                             \
    static u64 fn(u64 a, u64 b, u64 c, int rm, u64 *fl) {                               \
        u64 r, f;                                                                       \
        RM_SWITCH(rm, STMT_CALL)                                                        \
        *fl = f;                                                                        \
        return r;                                                                       \
    }

/* Per-instruction statement generators: each takes the rounding-mode suffix. */
#define S_FADD_S(rms) STMT_FF_F("fadd.s", "fmv.w.x", "fmv.x.w", rms)
#define S_FSUB_S(rms) STMT_FF_F("fsub.s", "fmv.w.x", "fmv.x.w", rms)
#define S_FMUL_S(rms) STMT_FF_F("fmul.s", "fmv.w.x", "fmv.x.w", rms)
#define S_FDIV_S(rms) STMT_FF_F("fdiv.s", "fmv.w.x", "fmv.x.w", rms)
#define S_FMIN_S(rms) STMT_FF_F("fmin.s", "fmv.w.x", "fmv.x.w", "")
#define S_FMAX_S(rms) STMT_FF_F("fmax.s", "fmv.w.x", "fmv.x.w", "")
#define S_FADD_D(rms) STMT_FF_F("fadd.d", "fmv.d.x", "fmv.x.d", rms)
#define S_FSUB_D(rms) STMT_FF_F("fsub.d", "fmv.d.x", "fmv.x.d", rms)
#define S_FMUL_D(rms) STMT_FF_F("fmul.d", "fmv.d.x", "fmv.x.d", rms)
#define S_FDIV_D(rms) STMT_FF_F("fdiv.d", "fmv.d.x", "fmv.x.d", rms)
#define S_FMIN_D(rms) STMT_FF_F("fmin.d", "fmv.d.x", "fmv.x.d", "")
#define S_FMAX_D(rms) STMT_FF_F("fmax.d", "fmv.d.x", "fmv.x.d", "")
DEF2(fadd_s, S_FADD_S) DEF2(fsub_s, S_FSUB_S) DEF2(fmul_s, S_FMUL_S) DEF2(fdiv_s, S_FDIV_S)
DEF2(fmin_s, S_FMIN_S) DEF2(fmax_s, S_FMAX_S)
DEF2(fadd_d, S_FADD_D) DEF2(fsub_d, S_FSUB_D) DEF2(fmul_d, S_FMUL_D) DEF2(fdiv_d, S_FDIV_D)
DEF2(fmin_d, S_FMIN_D) DEF2(fmax_d, S_FMAX_D)

#define S_FSQRT_S(rms) STMT_F_F("fsqrt.s", "fmv.w.x", "fmv.x.w", rms)
#define S_FSQRT_D(rms) STMT_F_F("fsqrt.d", "fmv.d.x", "fmv.x.d", rms)
#define S_FCVT_S_D(rms) STMT_F_F("fcvt.s.d", "fmv.d.x", "fmv.x.w", rms)
#define S_FCVT_D_S(rms) STMT_F_F("fcvt.d.s", "fmv.w.x", "fmv.x.d", "")
/* An f register holding a full 64-bit pattern, read as a single: checks NaN-unboxing. */
#define S_FCLASS_S_UNBOX(rms) STMT_F_X("fclass.s", "fmv.d.x", "")
/* A single written by fmv.w.x, read back as 64 bits: checks NaN-boxing. */
#define S_BOX(rms) STMT_F_F("fmv.s", "fmv.w.x", "fmv.x.d", "")
DEF1(fsqrt_s, S_FSQRT_S) DEF1(fsqrt_d, S_FSQRT_D) DEF1(fcvt_s_d, S_FCVT_S_D)
DEF1(fcvt_d_s, S_FCVT_D_S) DEF1(fclass_s_unbox, S_FCLASS_S_UNBOX) DEF1(box_s, S_BOX)

#define S_FMADD_S(rms) STMT_FFF_F("fmadd.s", "fmv.w.x", "fmv.x.w", rms)
#define S_FMSUB_S(rms) STMT_FFF_F("fmsub.s", "fmv.w.x", "fmv.x.w", rms)
#define S_FNMSUB_S(rms) STMT_FFF_F("fnmsub.s", "fmv.w.x", "fmv.x.w", rms)
#define S_FNMADD_S(rms) STMT_FFF_F("fnmadd.s", "fmv.w.x", "fmv.x.w", rms)
#define S_FMADD_D(rms) STMT_FFF_F("fmadd.d", "fmv.d.x", "fmv.x.d", rms)
#define S_FMSUB_D(rms) STMT_FFF_F("fmsub.d", "fmv.d.x", "fmv.x.d", rms)
#define S_FNMSUB_D(rms) STMT_FFF_F("fnmsub.d", "fmv.d.x", "fmv.x.d", rms)
#define S_FNMADD_D(rms) STMT_FFF_F("fnmadd.d", "fmv.d.x", "fmv.x.d", rms)
DEF3(fmadd_s, S_FMADD_S) DEF3(fmsub_s, S_FMSUB_S) DEF3(fnmsub_s, S_FNMSUB_S)
DEF3(fnmadd_s, S_FNMADD_S)
DEF3(fmadd_d, S_FMADD_D) DEF3(fmsub_d, S_FMSUB_D) DEF3(fnmsub_d, S_FNMSUB_D)
DEF3(fnmadd_d, S_FNMADD_D)

#define S_FEQ_S(rms) STMT_FF_X("feq.s", "fmv.w.x", "")
#define S_FLT_S(rms) STMT_FF_X("flt.s", "fmv.w.x", "")
#define S_FLE_S(rms) STMT_FF_X("fle.s", "fmv.w.x", "")
#define S_FEQ_D(rms) STMT_FF_X("feq.d", "fmv.d.x", "")
#define S_FLT_D(rms) STMT_FF_X("flt.d", "fmv.d.x", "")
#define S_FLE_D(rms) STMT_FF_X("fle.d", "fmv.d.x", "")
DEF2(feq_s, S_FEQ_S) DEF2(flt_s, S_FLT_S) DEF2(fle_s, S_FLE_S)
DEF2(feq_d, S_FEQ_D) DEF2(flt_d, S_FLT_D) DEF2(fle_d, S_FLE_D)

#define S_FCLASS_S(rms) STMT_F_X("fclass.s", "fmv.w.x", "")
#define S_FCLASS_D(rms) STMT_F_X("fclass.d", "fmv.d.x", "")
#define S_FCVT_W_S(rms) STMT_F_X("fcvt.w.s", "fmv.w.x", rms)
#define S_FCVT_WU_S(rms) STMT_F_X("fcvt.wu.s", "fmv.w.x", rms)
#define S_FCVT_L_S(rms) STMT_F_X("fcvt.l.s", "fmv.w.x", rms)
#define S_FCVT_LU_S(rms) STMT_F_X("fcvt.lu.s", "fmv.w.x", rms)
#define S_FCVT_W_D(rms) STMT_F_X("fcvt.w.d", "fmv.d.x", rms)
#define S_FCVT_WU_D(rms) STMT_F_X("fcvt.wu.d", "fmv.d.x", rms)
#define S_FCVT_L_D(rms) STMT_F_X("fcvt.l.d", "fmv.d.x", rms)
#define S_FCVT_LU_D(rms) STMT_F_X("fcvt.lu.d", "fmv.d.x", rms)
DEF1(fclass_s, S_FCLASS_S) DEF1(fclass_d, S_FCLASS_D)
DEF1(fcvt_w_s, S_FCVT_W_S) DEF1(fcvt_wu_s, S_FCVT_WU_S) DEF1(fcvt_l_s, S_FCVT_L_S)
DEF1(fcvt_lu_s, S_FCVT_LU_S)
DEF1(fcvt_w_d, S_FCVT_W_D) DEF1(fcvt_wu_d, S_FCVT_WU_D) DEF1(fcvt_l_d, S_FCVT_L_D)
DEF1(fcvt_lu_d, S_FCVT_LU_D)

#define S_FCVT_S_W(rms) STMT_X_F("fcvt.s.w", "fmv.x.w", rms)
#define S_FCVT_S_WU(rms) STMT_X_F("fcvt.s.wu", "fmv.x.w", rms)
#define S_FCVT_S_L(rms) STMT_X_F("fcvt.s.l", "fmv.x.w", rms)
#define S_FCVT_S_LU(rms) STMT_X_F("fcvt.s.lu", "fmv.x.w", rms)
/* Exact: the assembler takes no rounding mode for these. */
#define S_FCVT_D_W(rms) STMT_X_F("fcvt.d.w", "fmv.x.d", "")
#define S_FCVT_D_WU(rms) STMT_X_F("fcvt.d.wu", "fmv.x.d", "")
#define S_FCVT_D_L(rms) STMT_X_F("fcvt.d.l", "fmv.x.d", rms)
#define S_FCVT_D_LU(rms) STMT_X_F("fcvt.d.lu", "fmv.x.d", rms)
DEF1(fcvt_s_w, S_FCVT_S_W) DEF1(fcvt_s_wu, S_FCVT_S_WU) DEF1(fcvt_s_l, S_FCVT_S_L)
DEF1(fcvt_s_lu, S_FCVT_S_LU)
DEF1(fcvt_d_w, S_FCVT_D_W) DEF1(fcvt_d_wu, S_FCVT_D_WU) DEF1(fcvt_d_l, S_FCVT_D_L)
DEF1(fcvt_d_lu, S_FCVT_D_LU)

/* splitmix64: a fixed sequence, so every run prints the same cases. */
static u64 rng_state = 0x243f6a8885a308d3ull;
static u64 rnd(void) {
    u64 z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Format description: bit widths and the special operands worth pairing exhaustively. */
struct fmt {
    const char *suffix;
    int frac_bits, exp_bits;
};
static const struct fmt S = {"s", 23, 8}, D = {"d", 52, 11};

static u64 sign_bit(const struct fmt *f) { return 1ull << (f->frac_bits + f->exp_bits); }
static u64 exp_max(const struct fmt *f) { return (1ull << f->exp_bits) - 1; }
static u64 frac_mask(const struct fmt *f) { return (1ull << f->frac_bits) - 1; }
static int bias(const struct fmt *f) { return (1 << (f->exp_bits - 1)) - 1; }
static u64 make(const struct fmt *f, int neg, u64 biased_exp, u64 frac) {
    return (neg ? sign_bit(f) : 0) | (biased_exp << f->frac_bits) | (frac & frac_mask(f));
}
/* 2^e * (1 + frac/2^frac_bits) for a normal e. */
static u64 pow2(const struct fmt *f, int e, u64 frac) {
    return make(f, 0, (u64)(e + bias(f)), frac);
}

#define MAX_SPECIALS 128
static u64 specials[MAX_SPECIALS];
static int nspecials;
static void add_special(u64 v) {
    if (nspecials < MAX_SPECIALS) specials[nspecials++] = v;
}

static void build_specials(const struct fmt *f) {
    u64 top = 1ull << (f->frac_bits - 1); /* quiet bit / half of the fraction */
    u64 fm = frac_mask(f);
    u64 mags[] = {
        0,                                  /* zero */
        1,                                  /* smallest subnormal */
        2, 3,
        top,                                /* subnormal 2^(emin-1) */
        fm,                                 /* largest subnormal */
        make(f, 0, 1, 0),                   /* smallest normal */
        make(f, 0, 1, 1),
        make(f, 0, 2, 0),
        make(f, 0, 1, fm),
        pow2(f, 0, 0),                      /* 1 */
        pow2(f, 0, 1),                      /* 1 + ulp */
        pow2(f, -1, fm),                    /* 1 - ulp/2 */
        pow2(f, 0, top),                    /* 1.5 */
        pow2(f, 1, 0),                      /* 2 */
        pow2(f, 1, top),                    /* 3 */
        pow2(f, -1, 0),                     /* 0.5 */
        pow2(f, -2, top),                   /* 0.375 */
        pow2(f, -2, 0x5555555555555555ull), /* ~1/3 */
        pow2(f, -4, 0x999999999999999aull), /* ~0.1 */
        pow2(f, 1, top >> 1),               /* 2.5: integer tie */
        pow2(f, 30, fm),                    /* just below 2^31 */
        pow2(f, 31, 0),                     /* 2^31 */
        pow2(f, 31, 1),
        pow2(f, 32, 0),                     /* 2^32 */
        pow2(f, 31, fm),                    /* just below 2^32 */
        pow2(f, 62, fm),                    /* just below 2^63 */
        pow2(f, 63, 0),                     /* 2^63 */
        pow2(f, 64, 0),                     /* 2^64 */
        pow2(f, 63, fm),                    /* just below 2^64 */
        pow2(f, f->frac_bits, 1),           /* odd integer at full precision */
        make(f, 0, exp_max(f) - 1, fm),     /* largest finite */
        make(f, 0, exp_max(f) - 1, 0),
        make(f, 0, exp_max(f) - 2, fm),
        make(f, 0, exp_max(f), 0),          /* infinity */
    };
    nspecials = 0;
    for (unsigned i = 0; i < sizeof mags / sizeof mags[0]; i++) {
        add_special(mags[i]);
        add_special(mags[i] | sign_bit(f));
    }
    /* Integers near the 32-bit boundaries that singles cannot hold exactly. */
    if (f == &D) {
        double ints[] = {2147483647.0, 2147483647.5, 2147483648.5, -2147483648.5,
                         -2147483649.0, 4294967295.5, 4294967296.5, -0.3, -0.5, -0.7,
                         -1.0, 0.7, 1.5, -1.5, 4294967295.0};
        for (unsigned i = 0; i < sizeof ints / sizeof ints[0]; i++) {
            union { double d; u64 u; } v = {ints[i]};
            add_special(v.u);
        }
    } else {
        float ints[] = {-0.3f, -0.5f, -0.7f, -1.0f, 0.7f, 1.5f, -1.5f, 16777215.0f};
        for (unsigned i = 0; i < sizeof ints / sizeof ints[0]; i++) {
            union { float d; uint32_t u; } v = {ints[i]};
            add_special(v.u);
        }
    }
    add_special(make(f, 0, exp_max(f), top));          /* canonical qNaN */
    add_special(make(f, 1, exp_max(f), top | 0x123));  /* qNaN with sign and payload */
    add_special(make(f, 0, exp_max(f), 1));            /* sNaN */
    add_special(make(f, 1, exp_max(f), top >> 1));     /* sNaN with sign */
}

/* A random operand: sometimes special, otherwise a finite value whose exponent clusters near
 * the interesting places (0, the subnormal boundary, overflow, integer widths) and whose
 * fraction is often sparse, so exact results and ties are common. */
static u64 random_operand(const struct fmt *f) {
    u64 r = rnd();
    int neg = r & 1;
    int emax_field = (int)exp_max(f) - 1;
    int e;
    switch ((r >> 1) % 8) {
    case 0: return specials[(r >> 8) % nspecials];
    case 1: e = 1 + (int)((r >> 8) % 4) - 2; break;             /* subnormal boundary */
    case 2: e = emax_field - (int)((r >> 8) % 4); break;        /* overflow boundary */
    case 3: e = bias(f) + (int)((r >> 8) % 70) - 3; break;      /* integers */
    case 4: e = bias(f) + (int)((r >> 8) % 40) - 20; break;     /* around 1 */
    default: e = (int)((r >> 8) % (u64)(emax_field + 1)); break;
    }
    if (e < 0) e = 0;
    if (e > emax_field) e = emax_field;
    u64 frac = rnd();
    switch ((r >> 20) % 4) {
    case 0: frac &= rnd() & rnd(); break;                         /* sparse */
    case 1: frac &= ~0ull << (f->frac_bits - (int)((r >> 24) % 8)); break; /* few top bits */
    default: break;
    }
    return make(f, neg, (u64)e, frac);
}

static u64 narrow(const struct fmt *f, u64 v) { return f == &S ? v & 0xffffffffull : v; }

static void line_named(const char *prefix, const char *suffix, int rm, u64 a, u64 b, u64 c,
                       u64 r, u64 fl) {
    printf("%s%s %d %llx %llx %llx %llx %llx\n", prefix, suffix, rm, (unsigned long long)a,
           (unsigned long long)b, (unsigned long long)c, (unsigned long long)r,
           (unsigned long long)fl);
}

/* OP.FMT, e.g. fadd.s or fcvt.w.d. */
static void line(const char *op, const struct fmt *f, int rm, u64 a, u64 b, u64 c, u64 r,
                 u64 fl) {
    char prefix[32];
    snprintf(prefix, sizeof prefix, "%s.", op);
    line_named(prefix, f->suffix, rm, a, b, c, r, fl);
}

typedef u64 (*bin_fn)(u64, u64, int, u64 *);
typedef u64 (*un_fn)(u64, int, u64 *);
typedef u64 (*ter_fn)(u64, u64, u64, int, u64 *);

static void run_binary(const struct fmt *f, u64 a, u64 b) {
    const char *names[] = {"fadd", "fsub", "fmul", "fdiv"};
    bin_fn fs[] = {fadd_s, fsub_s, fmul_s, fdiv_s};
    bin_fn fd[] = {fadd_d, fsub_d, fmul_d, fdiv_d};
    for (int op = 0; op < 4; op++)
        for (int rm = 0; rm < 5; rm++) {
            u64 fl, r = (f == &S ? fs : fd)[op](a, b, rm, &fl);
            line(names[op], f, rm, a, b, 0, narrow(f, r), fl);
        }
    const char *qnames[] = {"fmin", "fmax", "feq", "flt", "fle"};
    bin_fn qs[] = {fmin_s, fmax_s, feq_s, flt_s, fle_s};
    bin_fn qd[] = {fmin_d, fmax_d, feq_d, flt_d, fle_d};
    for (int op = 0; op < 5; op++) {
        u64 fl, r = (f == &S ? qs : qd)[op](a, b, NO_RM, &fl);
        line(qnames[op], f, NO_RM, a, b, 0, op < 2 ? narrow(f, r) : r, fl);
    }
}

static void run_unary(const struct fmt *f, u64 a) {
    for (int rm = 0; rm < 5; rm++) {
        u64 fl, r = (f == &S ? fsqrt_s : fsqrt_d)(a, rm, &fl);
        line("fsqrt", f, rm, a, 0, 0, narrow(f, r), fl);
        const char *names[] = {"fcvt.w", "fcvt.wu", "fcvt.l", "fcvt.lu"};
        un_fn cs[] = {fcvt_w_s, fcvt_wu_s, fcvt_l_s, fcvt_lu_s};
        un_fn cd[] = {fcvt_w_d, fcvt_wu_d, fcvt_l_d, fcvt_lu_d};
        for (int op = 0; op < 4; op++) {
            r = (f == &S ? cs : cd)[op](a, rm, &fl);
            line(names[op], f, rm, a, 0, 0, r, fl);
        }
        if (f == &D) {
            r = fcvt_s_d(a, rm, &fl);
            line("fcvt.s", f, rm, a, 0, 0, r & 0xffffffffull, fl);
        }
    }
    u64 fl, r = (f == &S ? fclass_s : fclass_d)(a, NO_RM, &fl);
    line("fclass", f, NO_RM, a, 0, 0, r, fl);
    if (f == &S) {
        r = fcvt_d_s(a, NO_RM, &fl);
        line("fcvt.d", f, NO_RM, a, 0, 0, r, fl);
        r = box_s(a, NO_RM, &fl);
        line("box", f, NO_RM, a, 0, 0, r, fl);
    }
}

static void run_fma(const struct fmt *f, u64 a, u64 b, u64 c) {
    const char *names[] = {"fmadd", "fmsub", "fnmsub", "fnmadd"};
    ter_fn fs[] = {fmadd_s, fmsub_s, fnmsub_s, fnmadd_s};
    ter_fn fd[] = {fmadd_d, fmsub_d, fnmsub_d, fnmadd_d};
    for (int op = 0; op < 4; op++)
        for (int rm = 0; rm < 5; rm++) {
            u64 fl, r = (f == &S ? fs : fd)[op](a, b, c, rm, &fl);
            line(names[op], f, rm, a, b, c, narrow(f, r), fl);
        }
}

/* Integer sources for fcvt.{s,d}.{w,wu,l,lu}: boundaries, values needing rounding (ties at
 * 2^24 and 2^53), and random magnitudes. */
static void run_from_int(u64 v) {
    const char *names[] = {"w", "wu", "l", "lu"};
    un_fn cs[] = {fcvt_s_w, fcvt_s_wu, fcvt_s_l, fcvt_s_lu};
    un_fn cd[] = {fcvt_d_w, fcvt_d_wu, fcvt_d_l, fcvt_d_lu};
    for (int op = 0; op < 4; op++)
        for (int rm = 0; rm < 5; rm++) {
            u64 fl, r = cs[op](v, rm, &fl);
            line_named("fcvt.s.", names[op], rm, v, 0, 0, r & 0xffffffffull, fl);
            r = cd[op](v, rm, &fl);
            line_named("fcvt.d.", names[op], rm, v, 0, 0, r, fl);
        }
}

/* fma operands whose product nearly cancels the addend: the hardest case for one rounding. */
static u64 near_negated_product(const struct fmt *f, u64 a, u64 b) {
    u64 c;
    if (f == &S) {
        union { float x; uint32_t u; } ua = {.u = (uint32_t)a}, ub = {.u = (uint32_t)b}, uc;
        uc.x = -(ua.x * ub.x);
        c = uc.u;
    } else {
        union { double x; u64 u; } ua = {.u = a}, ub = {.u = b}, uc;
        uc.x = -(ua.x * ub.x);
        c = uc.u;
    }
    return c + (rnd() % 5) - 2;
}

/* The bits of x / y computed in the format, nudged by a few ulps: used to aim products and
 * quotients at a boundary (the smallest normal for tininess, the largest finite for
 * overflow). */
static u64 near_quotient(const struct fmt *f, u64 x, u64 y) {
    u64 q;
    if (f == &S) {
        union { float x; uint32_t u; } ux = {.u = (uint32_t)x}, uy = {.u = (uint32_t)y}, uq;
        uq.x = ux.x / uy.x;
        q = uq.u;
    } else {
        union { double x; u64 u; } ux = {.u = x}, uy = {.u = y}, uq;
        uq.x = ux.x / uy.x;
        q = uq.u;
    }
    return q + (rnd() % 5) - 2;
}

/* A binary64 near a binary32 value or halfway between two: fcvt.s.d's ties and boundaries. */
static u64 near_single(void) {
    union { float x; uint32_t u; } s = {.u = (uint32_t)random_operand(&S)};
    union { double x; u64 u; } d = {.x = s.x};
    if ((d.u & 0x7ff0000000000000ull) == 0x7ff0000000000000ull) return d.u;
    /* 2^28 units of the binary64 fraction are half a binary32 ulp (for normal singles). */
    return d.u + ((rnd() % 5) - 2) * (1ull << 28) + (rnd() % 3) - 1;
}

static void run_format(const struct fmt *f, int random_pairs, int random_triples) {
    build_specials(f);
    for (int i = 0; i < nspecials; i++) {
        run_unary(f, specials[i]);
        for (int j = 0; j < nspecials; j++) run_binary(f, specials[i], specials[j]);
    }
    for (int i = 0; i < random_pairs; i++) {
        u64 a = random_operand(f), b;
        u64 boundary = rnd() % 2 ? make(f, rnd() % 2, 1, rnd() % 4 ? 0 : frac_mask(f))
                                 : make(f, rnd() % 2, exp_max(f) - 1, frac_mask(f));
        switch (rnd() % 6) {
        case 0: b = a ^ sign_bit(f); b += rnd() % 3; break;  /* cancellation */
        case 1: b = a + (rnd() % 64) - 32; break;             /* neighbours */
        case 2: b = near_quotient(f, boundary, a); break;     /* a * b near a boundary */
        case 3: b = near_quotient(f, a, boundary); break;     /* a / b near a boundary */
        default: b = random_operand(f); break;
        }
        run_unary(f, a);
        run_binary(f, a, b);
    }
    for (int i = 0; i < random_triples; i++) {
        u64 a = random_operand(f), b = random_operand(f), c;
        switch (rnd() % 4) {
        case 0: c = specials[rnd() % nspecials]; break;
        case 1: c = near_negated_product(f, a, b); break;
        default: c = random_operand(f); break;
        }
        run_fma(f, a, b, c);
    }
    if (f == &D)
        for (int i = 0; i < random_pairs; i++) run_unary(f, near_single());
    /* fma's NaN, infinity and signed-zero rules: every triple of a few specials (among them
     * ∞ × 0 + qNaN, which must raise NV), then a sample of all specials. */
    u64 top = 1ull << (f->frac_bits - 1);
    u64 few[] = {0, sign_bit(f), make(f, 0, exp_max(f), 0), make(f, 1, exp_max(f), 0),
                 make(f, 0, exp_max(f), top), make(f, 0, exp_max(f), 1), pow2(f, 0, 0),
                 pow2(f, 0, 0) | sign_bit(f), 1, 1 | sign_bit(f), make(f, 0, exp_max(f) - 1, 0),
                 make(f, 1, exp_max(f) - 1, frac_mask(f))};
    int nfew = sizeof few / sizeof few[0];
    for (int i = 0; i < nfew * nfew * nfew; i++)
        run_fma(f, few[i % nfew], few[i / nfew % nfew], few[i / nfew / nfew]);
    for (int i = 0; i < random_triples / 2; i++)
        run_fma(f, specials[rnd() % nspecials], specials[rnd() % nspecials],
                specials[rnd() % nspecials]);
}

/* Usage: fp_oracle [SCALE [SEED]]. The test runs the defaults; a larger SCALE multiplies the
 * random cases and another SEED draws different ones, for a longer hunt by hand. */
int main(int argc, char **argv) {
    int scale = argc > 1 ? atoi(argv[1]) : 1;
    if (argc > 2) rng_state = strtoull(argv[2], NULL, 0);
    run_format(&S, 4000 * scale, 6000 * scale);
    run_format(&D, 4000 * scale, 6000 * scale);

    u64 ints[] = {0, 1, 2, 3, (u64)-1, (u64)-2, 0x7fffffff, 0x80000000, 0xffffffff,
                  (u64)(int64_t)(int32_t)0x80000000, 0x100000000ull, 0x1000001, 0x1000003,
                  0xffffff, 0x1ffffff, 0x20000000000001ull, 0x20000000000003ull,
                  0x7fffffffffffffffull, 0x8000000000000000ull, 0xffffffffffffffffull,
                  0x7ffffffffffffe00ull, 0x7ffffffffffffdffull, 0xfffffffffffff800ull,
                  (u64)-0x1000001ll, (u64)-0x20000000000001ll};
    for (unsigned i = 0; i < sizeof ints / sizeof ints[0]; i++) run_from_int(ints[i]);
    for (int i = 0; i < 3000 * scale; i++) {
        u64 r = rnd();
        u64 v = rnd() >> (r % 64);
        if (r & 64) v = (u64)-(int64_t)v;
        if (r & 128) v = (u64)(int64_t)(int32_t)v; /* sign-extended 32-bit source */
        run_from_int(v);
    }

    /* NaN-unboxing: an f register whose upper half is not all ones holds the canonical NaN. */
    u64 boxes[] = {0xffffffff3f800000ull, 0xfffffffe3f800000ull, 0x000000003f800000ull,
                   0x7fffffff00000001ull, 0xffffffff00000000ull, 0x3ff0000000000000ull};
    for (unsigned i = 0; i < sizeof boxes / sizeof boxes[0]; i++) {
        u64 fl, r = fclass_s_unbox(boxes[i], NO_RM, &fl);
        line("unbox-fclass", &S, NO_RM, boxes[i], 0, 0, r, fl);
    }
    return 0;
}
