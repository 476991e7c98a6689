/* Misaligned loads and stores: every integer and FP access width at every
 * offset within a doubleword (via inline asm, since gcc itself never emits
 * a misaligned access for rv64gc), packed structs (which gcc splits into
 * byte accesses), and memcpy to and from odd addresses. Linux completes
 * misaligned accesses for user code, and so must we. */
#include <stddef.h>
#include <string.h>

#include "guest.h"

static unsigned char buf[64] __attribute__((aligned(64)));

static void reset(void) {
    for (unsigned i = 0; i < sizeof buf; i++)
        buf[i] = (unsigned char)(0xa0 + i);
}

static void dump(const char *what, unsigned off) {
    printf("%-4s +%u:", what, off);
    for (unsigned i = 0; i < 24; i++)
        printf(" %02x", buf[i]);
    printf("\n");
}

int main(void) {
    for (unsigned off = 0; off < 8; off++) {
        unsigned char *p = buf + off;
        uint64_t lb, lh, lhu, lw, lwu, ld;
        reset();
        __asm__ volatile("lh %0, 0(%6)\n\tlhu %1, 0(%6)\n\tlw %2, 0(%6)\n\tlwu %3, 0(%6)\n\t"
                         "ld %4, 0(%6)\n\tlb %5, 0(%6)"
                         : "=&r"(lh), "=&r"(lhu), "=&r"(lw), "=&r"(lwu), "=&r"(ld), "=&r"(lb)
                         : "r"(p)
                         : "memory");
        printf("load +%u: lb %016" PRIx64 " lh %016" PRIx64 " lhu %016" PRIx64 " lw %016" PRIx64
               " lwu %016" PRIx64 " ld %016" PRIx64 "\n",
               off, lb, lh, lhu, lw, lwu, ld);

        __asm__ volatile("sh %0, 0(%1)" : : "r"(0x1122ull), "r"(p) : "memory");
        dump("sh", off);
        reset();
        __asm__ volatile("sw %0, 0(%1)" : : "r"(0x11223344ull), "r"(p) : "memory");
        dump("sw", off);
        reset();
        __asm__ volatile("sd %0, 0(%1)" : : "r"(0x1122334455667788ull), "r"(p) : "memory");
        dump("sd", off);

        reset();
        float f;
        double d;
        __asm__ volatile("flw %0, 0(%2)\n\tfld %1, 0(%2)" : "=&f"(f), "=&f"(d) : "r"(p) : "memory");
        printf("fp load +%u: flw %08" PRIx32 " fld %016" PRIx64 "\n", off, bits_f(f), bits_d(d));
        __asm__ volatile("fsw %0, 0(%1)" : : "f"(from_bits_f(0x3f800000)), "r"(p) : "memory");
        dump("fsw", off);
        reset();
        __asm__ volatile("fsd %0, 0(%1)" : : "f"(from_bits_d(0x400921fb54442d18)), "r"(p) : "memory");
        dump("fsd", off);
    }

    /* Packed structs put fields at odd offsets. */
    struct __attribute__((packed)) rec {
        char tag;
        uint64_t a;
        uint16_t b;
        uint32_t c;
        double d;
    };
    static struct rec recs[3];
    for (int i = 0; i < 3; i++) {
        recs[i].tag = (char)('x' + i);
        recs[i].a = 0x0102030405060708ull * (uint64_t)(i + 1);
        recs[i].b = (uint16_t)(0xbeef + i);
        recs[i].c = 0xdeadbeefu ^ (uint32_t)i;
        recs[i].d = 1.25 * (i + 1);
    }
    printf("packed: size %zu offsets %zu %zu %zu %zu\n", sizeof(struct rec), offsetof(struct rec, a),
           offsetof(struct rec, b), offsetof(struct rec, c), offsetof(struct rec, d));
    for (int i = 0; i < 3; i++)
        printf("packed[%d]: %c %016" PRIx64 " %04x %08" PRIx32 " %g\n", i, recs[i].tag, recs[i].a,
               recs[i].b, recs[i].c, recs[i].d);
    const unsigned char *raw = (const unsigned char *)recs;
    for (size_t i = 0; i < sizeof recs; i++)
        printf("%02x%s", raw[i], i + 1 == sizeof recs ? "\n" : "");

    /* memcpy between odd addresses, reading values back through the
     * misaligned asm loads. */
    static unsigned char src[64], dst[64];
    for (unsigned i = 0; i < 64; i++)
        src[i] = (unsigned char)(i * 37);
    for (unsigned so = 1; so < 8; so += 2)
        for (unsigned dof = 1; dof < 8; dof += 3) {
            memset(dst, 0, sizeof dst);
            memcpy(dst + dof, src + so, 29);
            uint64_t v;
            __asm__ volatile("ld %0, 0(%1)" : "=r"(v) : "r"(dst + dof + 8) : "memory");
            printf("memcpy src+%u dst+%u: %016" PRIx64 "\n", so, dof, v);
        }
    return 0;
}
