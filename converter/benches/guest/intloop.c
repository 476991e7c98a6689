/* Benchmark: a tight integer loop (xorshift, multiply, shifts, 32-bit ops, a branch). */
#include <stdint.h>
#include <stdio.h>

int main(void) {
    uint64_t x = 88172645463325252ull, acc = 0;
    uint32_t w = 1;
    for (long i = 0; i < 60000000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        w = w * 1664525u + 1013904223u;
        acc += (x * 2654435761u) >> 5;
        if (w & 0x100) acc ^= w;
    }
    printf("%llu %u\n", (unsigned long long)acc, w);
    return 0;
}
