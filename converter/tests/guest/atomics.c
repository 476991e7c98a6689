/* A extension: every AMO in .w and .d form (the .w ones return the old
 * value sign-extended), LR/SC loops, SC without a reservation failing, and
 * the C11 / __atomic builtins gcc lowers to these instructions (sub-word
 * ones through libatomic's LR/SC loops). Single-threaded, so every result
 * is determined by the ISA alone. */
#include <stdatomic.h>
#include <stdbool.h>

#include "guest.h"

static const uint64_t values[] = {
    0, 1, UINT64_MAX, 0x7fffffff, 0x80000000, 0xffffffff80000000, 0x123456789abcdef0,
    0x8000000000000000,
};
#define NVALUES (sizeof values / sizeof values[0])

/* Each AMO runs on a word in the middle of a buffer so a wrong access
 * width also shows up in the neighbouring words. */
static uint64_t cell[3] __attribute__((aligned(16)));

#define AMO_D(insn)                                                           \
    static void test_##insn##_d(void) {                                       \
        for (unsigned i = 0; i < NVALUES; i++)                                \
            for (unsigned j = 0; j < NVALUES; j++) {                          \
                uint64_t old;                                                 \
                cell[0] = cell[2] = 0x5555555555555555;                       \
                cell[1] = values[i];                                          \
                __asm__ volatile(#insn ".d %0, %2, (%1)"                      \
                                 : "=r"(old)                                  \
                                 : "r"(&cell[1]), "r"(values[j])              \
                                 : "memory");                                 \
                printf("%s.d %016" PRIx64 " %016" PRIx64 " -> old %016" PRIx64 \
                       " mem %016" PRIx64 " %016" PRIx64 " %016" PRIx64 "\n",   \
                       #insn, values[i], values[j], old, cell[0], cell[1],    \
                       cell[2]);                                              \
            }                                                                 \
    }

/* .w on the upper half of cell[1], so the untouched lower half is visible. */
#define AMO_W(insn)                                                           \
    static void test_##insn##_w(void) {                                       \
        for (unsigned i = 0; i < NVALUES; i++)                                \
            for (unsigned j = 0; j < NVALUES; j++) {                          \
                uint64_t old;                                                 \
                cell[0] = cell[2] = 0x5555555555555555;                       \
                cell[1] = (values[i] << 32) | 0xaaaaaaaa;                     \
                __asm__ volatile(#insn ".w %0, %2, (%1)"                      \
                                 : "=r"(old)                                  \
                                 : "r"((char *)&cell[1] + 4), "r"(values[j])  \
                                 : "memory");                                 \
                printf("%s.w %08" PRIx64 " %016" PRIx64 " -> old %016" PRIx64   \
                       " mem %016" PRIx64 "\n",                                \
                       #insn, values[i] & 0xffffffff, values[j], old, cell[1]); \
            }                                                                 \
    }

#define AMO(insn) AMO_D(insn) AMO_W(insn)
AMO(amoswap)
AMO(amoadd)
AMO(amoand)
AMO(amoor)
AMO(amoxor)
AMO(amomin)
AMO(amomax)
AMO(amominu)
AMO(amomaxu)

static void ordering_variants(void) {
    /* The aq/rl bits change ordering only; the values must be the same. */
    uint64_t old;
    cell[1] = 10;
    __asm__ volatile("amoadd.d.aq %0, %2, (%1)" : "=r"(old) : "r"(&cell[1]), "r"(5ull) : "memory");
    printf("amoadd.d.aq old %" PRIu64 " new %" PRIu64 "\n", old, cell[1]);
    __asm__ volatile("amoadd.d.rl %0, %2, (%1)" : "=r"(old) : "r"(&cell[1]), "r"(5ull) : "memory");
    printf("amoadd.d.rl old %" PRIu64 " new %" PRIu64 "\n", old, cell[1]);
    __asm__ volatile("amoswap.w.aqrl %0, %2, (%1)"
                     : "=r"(old)
                     : "r"(&cell[1]), "r"(0xfffffffeull)
                     : "memory");
    printf("amoswap.w.aqrl old %016" PRIx64 " new %016" PRIx64 "\n", old, cell[1]);
    /* rd = x0 discards the old value but must still update memory. */
    cell[1] = 1;
    __asm__ volatile("amoor.d zero, %1, (%0)" : : "r"(&cell[1]), "r"(6ull) : "memory");
    printf("amoor.d rd=x0 new %" PRIu64 "\n", cell[1]);
}

/* Compare-and-swap built from LR/SC, as glibc and libatomic do. */
static bool cas_d(uint64_t *p, uint64_t expected, uint64_t desired, unsigned *tries) {
    uint64_t seen, fail;
    *tries = 0;
    do {
        ++*tries;
        __asm__ volatile("lr.d.aq %0, (%1)" : "=r"(seen) : "r"(p) : "memory");
        if (seen != expected)
            return false;
        __asm__ volatile("sc.d.rl %0, %2, (%1)" : "=r"(fail) : "r"(p), "r"(desired) : "memory");
    } while (fail != 0);
    return true;
}

static bool cas_w(uint32_t *p, uint32_t expected, uint32_t desired) {
    uint64_t seen, fail;
    do {
        __asm__ volatile("lr.w %0, (%1)" : "=r"(seen) : "r"(p) : "memory");
        /* lr.w sign-extends, so compare against the sign-extended value. */
        if (seen != (uint64_t)(int64_t)(int32_t)expected)
            return false;
        __asm__ volatile("sc.w %0, %2, (%1)" : "=r"(fail) : "r"(p), "r"(desired) : "memory");
    } while (fail != 0);
    return true;
}

static void lr_sc(void) {
    uint64_t d = 41;
    uint32_t w = 0x80000000;
    unsigned tries;
    bool ok = cas_d(&d, 41, 42, &tries);
    printf("cas_d 41->42: %d value %" PRIu64 " single try %d\n", ok, d, tries == 1);
    ok = cas_d(&d, 41, 43, &tries);
    printf("cas_d 41->43: %d value %" PRIu64 "\n", ok, d);
    ok = cas_w(&w, 0x80000000, 0x7fffffff);
    printf("cas_w: %d value %08" PRIx32 "\n", ok, w);
    ok = cas_w(&w, 0x80000000, 1);
    printf("cas_w stale: %d value %08" PRIx32 "\n", ok, w);

    uint64_t lr_val;
    __asm__ volatile("lr.w %0, (%1)" : "=r"(lr_val) : "r"(&w) : "memory");
    printf("lr.w of 7fffffff -> %016" PRIx64 "\n", lr_val);
    w = 0xfffffff0;
    __asm__ volatile("lr.w %0, (%1)" : "=r"(lr_val) : "r"(&w) : "memory");
    printf("lr.w of fffffff0 -> %016" PRIx64 "\n", lr_val);

    /* A successful sc clears the reservation, so a second sc must fail and
     * leave memory alone. */
    uint64_t fail1, fail2;
    d = 1;
    __asm__ volatile("lr.d %0, (%2)\n\t"
                     "sc.d %0, %3, (%2)\n\t"
                     "sc.d %1, %4, (%2)"
                     : "=&r"(fail1), "=&r"(fail2)
                     : "r"(&d), "r"(2ull), "r"(3ull)
                     : "memory");
    printf("sc after sc: first %s, second %s, value %" PRIu64 "\n",
           fail1 == 0 ? "succeeded" : "failed", fail2 == 0 ? "succeeded" : "failed", d);

    /* A counter incremented with an LR/SC loop 1000 times. */
    uint64_t counter = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t tmp, fail;
        __asm__ volatile("1: lr.d %0, (%2)\n\t"
                         "addi %0, %0, 3\n\t"
                         "sc.d %1, %0, (%2)\n\t"
                         "bnez %1, 1b"
                         : "=&r"(tmp), "=&r"(fail)
                         : "r"(&counter)
                         : "memory");
    }
    printf("lr/sc counter %" PRIu64 "\n", counter);
}

static void c11(void) {
    _Atomic int8_t c = -3;
    _Atomic uint16_t h = 0xfff0;
    _Atomic int32_t i = INT32_MAX;
    _Atomic uint64_t l = 1;
    int8_t c_old = atomic_fetch_add(&c, 5);
    uint16_t h_old = atomic_fetch_add(&h, 0x20);
    int32_t i_old = atomic_fetch_add(&i, 1);
    uint64_t l_old = atomic_fetch_sub(&l, 2);
    printf("fetch_add: c %d->%d h %#x->%#x i %d->%d l %" PRIu64 "->%" PRIx64 "\n", c_old,
           (int)c, h_old, (unsigned)h, i_old, (int)i, l_old, (uint64_t)l);
    printf("fetch_or %#x fetch_and %#x fetch_xor %#x -> %#x\n",
           (unsigned)atomic_fetch_or(&h, 0x0f00), (unsigned)atomic_fetch_and(&h, 0x0ff0),
           (unsigned)atomic_fetch_xor(&h, 0xffff), (unsigned)h);
    printf("exchange %d -> %d\n", (int)atomic_exchange(&c, -128), (int)c);

    int8_t ce = -128;
    bool ok = atomic_compare_exchange_strong(&c, &ce, 127);
    printf("cas8 ok %d now %d\n", ok, (int)c);
    ce = 0;
    ok = atomic_compare_exchange_strong(&c, &ce, 1);
    printf("cas8 fail %d expected updated to %d\n", ok, ce);

    uint16_t he = 0;
    ok = atomic_compare_exchange_weak(&h, &he, 1);
    printf("cas16 fail %d expected updated to %#x\n", ok, he);
    while (!atomic_compare_exchange_weak(&h, &he, 0xbeef))
        ;
    printf("cas16 weak loop -> %#x\n", (unsigned)h);

    uint64_t want = 0xffffffffffffffff, got = 0;
    ok = __atomic_compare_exchange_n(&l, &want, 7, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    printf("cas64 ok %d now %" PRIu64 "\n", ok, (uint64_t)l);
    uint64_t plain = 5, exp5 = 5, des = 9;
    ok = __atomic_compare_exchange(&plain, &exp5, &des, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
    printf("__atomic_compare_exchange ok %d now %" PRIu64 "\n", ok, plain);
    ok = __atomic_compare_exchange(&plain, &got, &des, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
    printf("__atomic_compare_exchange fail %d got %" PRIu64 "\n", ok, got);

    int32_t i2 = 10;
    printf("add_fetch %d sub_fetch %d nand_fetch %d\n", __atomic_add_fetch(&i2, 5, __ATOMIC_RELAXED),
           __atomic_sub_fetch(&i2, 20, __ATOMIC_RELAXED),
           __atomic_nand_fetch(&i2, 0xff, __ATOMIC_RELAXED));
    atomic_flag f = ATOMIC_FLAG_INIT;
    int first = atomic_flag_test_and_set(&f), second = atomic_flag_test_and_set(&f);
    printf("flag %d %d\n", first, second);
    atomic_thread_fence(memory_order_seq_cst);
}

int main(void) {
    test_amoswap_d();
    test_amoswap_w();
    test_amoadd_d();
    test_amoadd_w();
    test_amoand_d();
    test_amoand_w();
    test_amoor_d();
    test_amoor_w();
    test_amoxor_d();
    test_amoxor_w();
    test_amomin_d();
    test_amomin_w();
    test_amomax_d();
    test_amomax_w();
    test_amominu_d();
    test_amominu_w();
    test_amomaxu_d();
    test_amomaxu_w();
    ordering_variants();
    lr_sc();
    c11();
    return 0;
}
