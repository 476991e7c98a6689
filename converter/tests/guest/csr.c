/* User-level CSRs: fcsr is frm (bits 7:5) over fflags (bits 4:0), and each
 * view reads and writes its own field (frcsr/fscsr, frrm/fsrm,
 * frflags/fsflags, plus csrrs/csrrc/csrrwi forms); writes ignore bits
 * beyond the field; the swap forms return the old value. cycle, time and
 * instret must be readable and never go backwards; their values are not
 * printed since they depend on the host. */
#include "guest.h"

static uint64_t frcsr(void) {
    uint64_t v;
    __asm__ volatile("frcsr %0" : "=r"(v));
    return v;
}

int main(void) {
    uint64_t old, v;
    printf("initial fcsr %#" PRIx64 "\n", frcsr());

    __asm__ volatile("fscsr %0, %1" : "=r"(old) : "r"(0xffffffffffffffffull));
    printf("fscsr all ones: old %#" PRIx64 " now %#" PRIx64 "\n", old, frcsr());
    __asm__ volatile("frrm %0" : "=r"(v));
    printf("frrm %#" PRIx64 "\n", v);
    __asm__ volatile("frflags %0" : "=r"(v));
    printf("frflags %#" PRIx64 "\n", v);

    __asm__ volatile("fsrm %0, %1" : "=r"(old) : "r"(0x2ull));
    printf("fsrm 2: old %#" PRIx64 " fcsr %#" PRIx64 "\n", old, frcsr());
    __asm__ volatile("fsflags %0, %1" : "=r"(old) : "r"(0x35ull));
    printf("fsflags 0x35: old %#" PRIx64 " fcsr %#" PRIx64 "\n", old, frcsr());
    __asm__ volatile("fsrmi %0, 4" : "=r"(old));
    printf("fsrmi 4: old %#" PRIx64 " fcsr %#" PRIx64 "\n", old, frcsr());
    __asm__ volatile("fsflagsi %0, 0x1a" : "=r"(old));
    printf("fsflagsi 0x1a: old %#" PRIx64 " fcsr %#" PRIx64 "\n", old, frcsr());

    /* csrrs/csrrc set and clear bits; with rs1 = x0 they only read. */
    __asm__ volatile("csrrs %0, fflags, %1" : "=r"(old) : "r"(0x5ull));
    printf("csrrs fflags 5: old %#" PRIx64 " fcsr %#" PRIx64 "\n", old, frcsr());
    __asm__ volatile("csrrc %0, fcsr, %1" : "=r"(old) : "r"(0x83ull));
    printf("csrrc fcsr 0x83: old %#" PRIx64 " fcsr %#" PRIx64 "\n", old, frcsr());
    __asm__ volatile("csrrsi %0, frm, 3" : "=r"(old));
    printf("csrrsi frm 3: old %#" PRIx64 " fcsr %#" PRIx64 "\n", old, frcsr());
    __asm__ volatile("csrrci %0, fcsr, 0x1f" : "=r"(old));
    printf("csrrci fcsr 0x1f: old %#" PRIx64 " fcsr %#" PRIx64 "\n", old, frcsr());
    __asm__ volatile("csrrwi %0, fcsr, 0x11" : "=r"(old));
    printf("csrrwi fcsr 0x11: old %#" PRIx64 " fcsr %#" PRIx64 "\n", old, frcsr());
    __asm__ volatile("csrrs %0, fcsr, zero" : "=r"(old));
    printf("csrrs fcsr x0 (read only): %#" PRIx64 "\n", old);

    /* An FP operation accrues into fflags but leaves frm alone. */
    __asm__ volatile("fscsr zero");
    volatile double one = 1.0, three = 3.0;
    volatile double q = one / three;
    (void)q;
    printf("after 1/3: fcsr %#" PRIx64 "\n", frcsr());
    __asm__ volatile("fscsr zero");

    /* Counters: readable, and monotonic across a loop of work. */
    uint64_t c0, c1, t0, t1, i0, i1;
    __asm__ volatile("rdcycle %0\n\trdtime %1\n\trdinstret %2" : "=r"(c0), "=r"(t0), "=r"(i0));
    volatile uint64_t sink = 0;
    for (int i = 0; i < 10000; i++)
        sink += (uint64_t)i * 3;
    __asm__ volatile("rdcycle %0\n\trdtime %1\n\trdinstret %2" : "=r"(c1), "=r"(t1), "=r"(i1));
    printf("work %" PRIu64 ", cycle monotonic %d, time monotonic %d, instret advanced %d\n",
           (uint64_t)sink, c1 >= c0, t1 >= t0, i1 > i0);
    return 0;
}
