/* fclass.s and fclass.d on a member of each of the ten classes, plus a
 * single-precision value that is not NaN-boxed, which fclass.s must see as
 * the canonical quiet NaN (class bit 9). */
#include "guest.h"

static const uint64_t vals_d[] = {
    0xfff0000000000000, /* -inf: bit 0 */
    0xbff0000000000000, /* negative normal: bit 1 */
    0x800fffffffffffff, /* negative subnormal: bit 2 */
    0x8000000000000000, /* -0: bit 3 */
    0x0000000000000000, /* +0: bit 4 */
    0x0000000000000001, /* positive subnormal: bit 5 */
    0x7fefffffffffffff, /* positive normal: bit 6 */
    0x7ff0000000000000, /* +inf: bit 7 */
    0x7ff0000000000001, /* sNaN: bit 8 */
    0xfff4000000000000, /* negative sNaN: bit 8 */
    0x7ff8000000000000, /* qNaN: bit 9 */
    0xffffffffffffffff, /* negative qNaN: bit 9 */
    0x0010000000000000, /* DBL_MIN, normal */
    0x000fffffffffffff, /* largest subnormal */
};
static const uint32_t vals_s[] = {0xff800000, 0xbf800000, 0x807fffff, 0x80000000, 0x00000000,
                                  0x00000001, 0x7f7fffff, 0x7f800000, 0x7f800001, 0xffa00000,
                                  0x7fc00000, 0xffffffff, 0x00800000, 0x007fffff};

int main(void) {
    for (unsigned i = 0; i < sizeof vals_d / sizeof vals_d[0]; i++) {
        uint64_t c;
        __asm__ volatile("fclass.d %0, %1" : "=r"(c) : "f"(from_bits_d(vals_d[i])));
        printf("fclass.d %016" PRIx64 " -> %#05" PRIx64 "\n", vals_d[i], c);
    }
    for (unsigned i = 0; i < sizeof vals_s / sizeof vals_s[0]; i++) {
        uint64_t c;
        __asm__ volatile("fclass.s %0, %1" : "=r"(c) : "f"(from_bits_f(vals_s[i])));
        printf("fclass.s %08" PRIx32 " -> %#05" PRIx64 "\n", vals_s[i], c);
    }
    /* A double in the register, read as a single: its upper 32 bits are not
     * all ones, so the single is improperly boxed. */
    static const uint64_t unboxed[] = {0x3ff0000000000000, 0x000000003f800000,
                                       0xfffffffe3f800000, 0xffffffff3f800000};
    for (unsigned i = 0; i < sizeof unboxed / sizeof unboxed[0]; i++) {
        uint64_t c;
        __asm__ volatile("fmv.d.x ft0, %1\n\tfclass.s %0, ft0" : "=r"(c) : "r"(unboxed[i]) : "ft0");
        printf("fclass.s of register %016" PRIx64 " -> %#05" PRIx64 "\n", unboxed[i], c);
    }
    return 0;
}
