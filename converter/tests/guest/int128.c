/* 128-bit integers (__int128): gcc emits mul/mulhu chains for products and
 * calls libgcc's __divti3/__udivti3/__modti3 for division, plus carries
 * through sltu for add/sub and two-register shifts. Results printed in
 * hex and decimal (our own conversion, since printf has no %I128). */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>

typedef unsigned __int128 u128;
typedef __int128 i128;

static void print_u128(const char *label, u128 v) {
    char dec[48];
    int n = 0;
    u128 t = v;
    do {
        dec[n++] = (char)('0' + (int)(t % 10));
        t /= 10;
    } while (t != 0);
    printf("%s = 0x%016" PRIx64 "%016" PRIx64 " = ", label, (uint64_t)(v >> 64), (uint64_t)v);
    while (n > 0)
        putchar(dec[--n]);
    putchar('\n');
}

static void print_i128(const char *label, i128 v) {
    if (v < 0) {
        char neg[64];
        snprintf(neg, sizeof neg, "%s (negated)", label);
        print_u128(neg, -(u128)v);
    } else {
        print_u128(label, (u128)v);
    }
}

int main(void) {
    volatile u128 max = ~(u128)0;
    volatile i128 min = (i128)((u128)1 << 127);
    volatile u128 a = ((u128)0x0123456789abcdefu << 64) | 0xfedcba9876543210u;
    volatile u128 b = ((u128)0x1u << 64) | 0x1u;
    volatile uint64_t x = UINT64_MAX, y = 0x8000000000000001u;

    print_u128("max", max);
    print_u128("max + 1", max + 1);
    print_i128("min", min);
    print_i128("min - 1 (wraps)", (i128)((u128)min - 1));
    print_u128("a", a);
    print_u128("a + b", a + b);
    print_u128("a - b", a - b);
    print_u128("b - a", b - a);
    print_u128("a * b", a * b);
    print_u128("x * x (full product)", (u128)x * x);
    print_u128("x * y", (u128)x * y);
    print_i128("(i128)-x * y", (i128)(int64_t)x * (i128)(int64_t)y);
    print_u128("a / b", a / b);
    print_u128("a % b", a % b);
    print_u128("max / 10", max / 10);
    print_u128("max % 10", max % 10);
    print_u128("a / 0x12345", a / 0x12345);
    print_i128("-a / 7", -(i128)a / 7);
    print_i128("-a % 7", -(i128)a % 7);
    print_i128("min / 3", min / 3);
    print_i128("min % 3", min % 3);
    for (volatile int s = 0; s < 128; s += 9) {
        char label[32];
        snprintf(label, sizeof label, "a << %d", s);
        print_u128(label, a << s);
        snprintf(label, sizeof label, "a >> %d", s);
        print_u128(label, a >> s);
        snprintf(label, sizeof label, "(signed)min >> %d", s);
        print_i128(label, min >> s);
    }
    printf("compare: a<b %d a>b %d min<0 %d (u128)min>a %d\n", a < b, a > b, min < 0, (u128)min > a);
    u128 fact = 1;
    for (int i = 1; i <= 34; i++)
        fact *= (u128)i;
    print_u128("34!", fact);
    return 0;
}
