/* Deep recursion: 100000 nested non-tail calls (a few MB of stack, well
 * inside the 8 MiB default) and mutual recursion, with results that depend
 * on every frame so a corrupted frame or saved register shows. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>

#define DEPTH 100000

/* The volatile array lives across the recursive call, so the frame cannot
 * be elided and gcc cannot turn the recursion into a loop. */
static uint64_t __attribute__((noinline)) deep(uint32_t n, uint64_t seed) {
    volatile uint64_t keep[2];
    keep[0] = seed * 6364136223846793005u + n;
    keep[1] = n;
    if (n == 0)
        return keep[0];
    uint64_t below = deep(n - 1, keep[0]);
    return below ^ (keep[0] >> (keep[1] % 61)) ^ keep[1];
}

static int is_odd(unsigned n);
static int __attribute__((noinline)) is_even(unsigned n) {
    volatile unsigned m = n;
    return m == 0 ? 1 : is_odd(m - 1);
}
static int __attribute__((noinline)) is_odd(unsigned n) {
    volatile unsigned m = n;
    return m == 0 ? 0 : is_even(m - 1);
}

static uint64_t ackermann(uint64_t m, uint64_t n) {
    if (m == 0)
        return n + 1;
    if (n == 0)
        return ackermann(m - 1, 1);
    return ackermann(m - 1, ackermann(m, n - 1));
}

int main(void) {
    printf("deep(%d) = %016" PRIx64 "\n", DEPTH, deep(DEPTH, 1));
    printf("deep(10) = %016" PRIx64 "\n", deep(10, 1));
    printf("is_even(50001) = %d, is_odd(50001) = %d\n", is_even(50001), is_odd(50001));
    printf("ackermann(2, 3) = %" PRIu64 ", ackermann(3, 5) = %" PRIu64 "\n", ackermann(2, 3),
           ackermann(3, 5));
    return 0;
}
