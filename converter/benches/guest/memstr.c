/* Benchmark: glibc's memcpy, memset, strlen and memchr over buffers at several alignments. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
    const size_t len = 1 << 16;
    char *a = malloc(len + 64), *b = malloc(len + 64);
    unsigned long total = 0;
    for (int round = 0; round < 3000; round++) {
        size_t off = round & 7;
        memset(a + off, 'a' + (round % 26), len);
        a[off + len - 1 - (round & 255)] = 0;
        memcpy(b + (round & 15), a + off, len);
        total += strlen(b + (round & 15));
        char *p = memchr(b, 0, len + 16);
        total += p ? (size_t)(p - b) : 0;
    }
    printf("%lu\n", total);
    free(a);
    free(b);
    return 0;
}
