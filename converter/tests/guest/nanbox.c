/* NaN-boxing of single-precision values in the 64-bit FP registers: flw
 * and fmv.w.x box (upper 32 bits all ones), fmv.x.w sign-extends bit 31 and
 * ignores the box, fsw stores the low 32 bits as they are, and every
 * single-precision operation reads an improperly boxed register as the
 * canonical NaN. */
#include "guest.h"

/* Load 64 raw bits into ft0, run one single-precision instruction on it and
 * return the whole destination register. */
#define ON_RAW(insn)                                                          \
    static uint64_t on_raw_##insn(uint64_t raw) {                             \
        uint64_t out;                                                         \
        __asm__ volatile("fmv.d.x ft0, %1\n\t" INSN_##insn "\n\tfmv.x.d %0, ft1" \
                         : "=r"(out)                                          \
                         : "r"(raw)                                           \
                         : "ft0", "ft1");                                     \
        return out;                                                           \
    }
#define INSN_fadd "fadd.s ft1, ft0, ft0"
#define INSN_fsgnj "fsgnj.s ft1, ft0, ft0"
#define INSN_fsgnjn "fsgnjn.s ft1, ft0, ft0"
#define INSN_fmin "fmin.s ft1, ft0, ft0"
#define INSN_fcvt_d_s "fcvt.d.s ft1, ft0"
#define INSN_fmadd "fmadd.s ft1, ft0, ft0, ft0"
ON_RAW(fadd)
ON_RAW(fsgnj)
ON_RAW(fsgnjn)
ON_RAW(fmin)
ON_RAW(fcvt_d_s)
ON_RAW(fmadd)

int main(void) {
    static const uint64_t raws[] = {
        0xffffffff3f800000, /* boxed 1.0f */
        0xffffffffbf800000, /* boxed -1.0f */
        0x000000003f800000, /* 1.0f with a zero upper half */
        0xfffffffe3f800000, /* one bit missing from the box */
        0x7fffffff3f800000, /* sign bit of the box missing */
        0x3ff0000000000000, /* the double 1.0 */
    };
    for (unsigned i = 0; i < sizeof raws / sizeof raws[0]; i++) {
        uint64_t r = raws[i], x;
        __asm__ volatile("fmv.d.x ft0, %1\n\tfmv.x.w %0, ft0" : "=r"(x) : "r"(r) : "ft0");
        printf("%016" PRIx64 ": fmv.x.w %016" PRIx64 " fadd %016" PRIx64 " fsgnj %016" PRIx64
               " fsgnjn %016" PRIx64 " fmin %016" PRIx64 " fcvt.d.s %016" PRIx64
               " fmadd %016" PRIx64 "\n",
               r, x, on_raw_fadd(r), on_raw_fsgnj(r), on_raw_fsgnjn(r), on_raw_fmin(r),
               on_raw_fcvt_d_s(r), on_raw_fmadd(r));
    }

    /* fmv.w.x boxes the low 32 bits of the integer register. */
    static const uint64_t ints[] = {0x123456783f800000, 0x00000000ffffffff, 0xffffffff80000000};
    for (unsigned i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        uint64_t out;
        __asm__ volatile("fmv.w.x ft0, %1\n\tfmv.x.d %0, ft0" : "=r"(out) : "r"(ints[i]) : "ft0");
        printf("fmv.w.x %016" PRIx64 " -> register %016" PRIx64 "\n", ints[i], out);
    }

    /* fmv.x.w sign-extends: 0x80000000 becomes ffffffff80000000. */
    static const uint32_t singles[] = {0x80000000, 0x7fffffff, 0xffc00000, 0x3f800000};
    for (unsigned i = 0; i < sizeof singles / sizeof singles[0]; i++) {
        uint64_t out;
        __asm__ volatile("fmv.x.w %0, %1" : "=r"(out) : "f"(from_bits_f(singles[i])));
        printf("fmv.x.w %08" PRIx32 " -> %016" PRIx64 "\n", singles[i], out);
    }

    /* flw boxes; fld of the same memory does not, so a later single
     * operation must see a NaN. fsw of an unboxed register stores its low
     * half unchanged. */
    static uint64_t mem[2] __attribute__((aligned(8))) = {0x000000013f800000, 0};
    uint64_t after_flw, after_fld, add_after_fld, stored;
    __asm__ volatile("flw ft0, 0(%1)\n\tfmv.x.d %0, ft0" : "=r"(after_flw) : "r"(mem) : "ft0");
    __asm__ volatile("fld ft0, 0(%2)\n\tfmv.x.d %0, ft0\n\tfadd.s ft1, ft0, ft0\n\tfmv.x.d %1, ft1"
                     : "=&r"(after_fld), "=&r"(add_after_fld)
                     : "r"(mem)
                     : "ft0", "ft1");
    __asm__ volatile("fld ft0, 0(%0)\n\tfsw ft0, 8(%0)" : : "r"(mem) : "ft0", "memory");
    stored = mem[1];
    printf("flw -> %016" PRIx64 ", fld -> %016" PRIx64 ", fadd.s on it -> %016" PRIx64
           ", fsw of it -> %016" PRIx64 "\n",
           after_flw, after_fld, add_after_fld, stored);

    /* A double operation writes all 64 bits; a single operation on the
     * result of a double one reads a NaN unless the upper half is all ones. */
    double d = 1.0;
    uint64_t s_from_d;
    __asm__ volatile("fmv.d ft0, %1\n\tfadd.s ft1, ft0, ft0\n\tfmv.x.d %0, ft1"
                     : "=r"(s_from_d)
                     : "f"(d)
                     : "ft0", "ft1");
    printf("fadd.s of a double register -> %016" PRIx64 "\n", s_from_d);
    return 0;
}
