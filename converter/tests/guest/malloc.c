/* glibc malloc over brk and mmap: a 64 MiB block (mmap'd by malloc),
 * realloc growth and shrink sequences that must keep contents, calloc
 * zeroing (including memory that malloc reuses after free), many small
 * allocations, and posix_memalign/aligned_alloc alignment. Prints
 * checksums and facts, never addresses. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* FNV-1a over every byte of small blocks; large ones are sampled with an
 * odd stride (plus the last byte) to stay fast under emulation. */
static uint64_t checksum(const unsigned char *p, size_t n) {
    uint64_t h = 1469598103934665603u;
    size_t stride = n > 65536 ? 509 : 1;
    for (size_t i = 0; i < n; i += stride)
        h = (h ^ p[i]) * 1099511628211u;
    if (n > 0)
        h = (h ^ p[n - 1]) * 1099511628211u;
    return h;
}

static void big_block(void) {
    size_t n = 64u << 20;
    unsigned char *p = malloc(n);
    if (p == NULL) {
        printf("malloc 64 MiB failed\n");
        return;
    }
    /* One byte per 4 KiB page plus both ends: touches every page. */
    for (size_t i = 0; i < n; i += 4096)
        p[i] = (unsigned char)(i >> 12);
    p[n - 1] = 0xaa;
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i += 4096)
        sum += p[i];
    printf("64 MiB: page sum %" PRIu64 " last %#x\n", sum, p[n - 1]);
    memset(p, 0x5a, n);
    printf("64 MiB memset: checksum %016" PRIx64 "\n", checksum(p, n));
    free(p);
}

static void realloc_growth(void) {
    size_t len = 1;
    unsigned char *p = malloc(len);
    p[0] = 0;
    /* Grow through the brk heap into mmap territory (past 128 KiB) and up to
     * 32 MiB; after each step the old contents must still be there. */
    for (int step = 0; step < 23; step++) {
        size_t new_len = len * 2 + 3;
        p = realloc(p, new_len);
        if (p == NULL) {
            printf("realloc to %zu failed\n", new_len);
            return;
        }
        for (size_t i = len; i < new_len; i++)
            p[i] = (unsigned char)(i * 7 + step);
        printf("grow %2d: %9zu bytes checksum %016" PRIx64 "\n", step, new_len, checksum(p, new_len));
        len = new_len;
    }
    while (len > 100) {
        len /= 3;
        p = realloc(p, len);
        printf("shrink: %9zu bytes checksum %016" PRIx64 "\n", len, checksum(p, len));
    }
    free(p);
    printf("realloc(NULL, 10) usable %d\n", (p = realloc(NULL, 10)) != NULL);
    free(p);
}

static void calloc_zeroing(void) {
    /* Dirty some memory, free it, then calloc the same sizes: the reused
     * chunks must come back zeroed. */
    for (int round = 0; round < 3; round++) {
        size_t sizes[] = {24, 1000, 4096, 100000, 300000};
        unsigned char *ps[5];
        for (int i = 0; i < 5; i++) {
            ps[i] = malloc(sizes[i]);
            memset(ps[i], 0xff, sizes[i]);
        }
        for (int i = 0; i < 5; i++)
            free(ps[i]);
        int all_zero = 1;
        for (int i = 0; i < 5; i++) {
            ps[i] = calloc(sizes[i], 1);
            for (size_t j = 0; j < sizes[i]; j++)
                all_zero &= ps[i][j] == 0;
        }
        printf("calloc round %d zeroed %d\n", round, all_zero);
        for (int i = 0; i < 5; i++)
            free(ps[i]);
    }
    /* volatile: gcc rejects the constant sizes at compile time otherwise. */
    volatile size_t half = SIZE_MAX / 2, near_max = SIZE_MAX - 4096;
    void *huge = calloc(half, 4);
    printf("calloc overflow -> NULL %d\n", huge == NULL);
    void *too_big = malloc(near_max);
    printf("malloc(SIZE_MAX - 4096) -> NULL %d\n", too_big == NULL);
}

static void many_small(void) {
    enum { N = 20000 };
    static unsigned *ptrs[N];
    uint64_t sum = 0;
    for (unsigned i = 0; i < N; i++) {
        ptrs[i] = malloc(8 + (i % 61) * 8);
        ptrs[i][0] = i;
    }
    /* Free every other one, then allocate again into the holes. */
    for (unsigned i = 0; i < N; i += 2)
        free(ptrs[i]);
    for (unsigned i = 0; i < N; i += 2) {
        ptrs[i] = malloc(16 + (i % 37) * 16);
        ptrs[i][0] = i * 3;
    }
    for (unsigned i = 0; i < N; i++) {
        sum += ptrs[i][0];
        free(ptrs[i]);
    }
    printf("many small: sum %" PRIu64 "\n", sum);
}

static void alignment(void) {
    size_t aligns[] = {16, 64, 4096, 65536};
    for (int i = 0; i < 4; i++) {
        void *p = NULL;
        int rc = posix_memalign(&p, aligns[i], 1000);
        printf("posix_memalign %zu: rc %d aligned %d\n", aligns[i], rc,
               ((uintptr_t)p & (aligns[i] - 1)) == 0);
        free(p);
        p = aligned_alloc(aligns[i], aligns[i] * 2);
        printf("aligned_alloc %zu: aligned %d\n", aligns[i], ((uintptr_t)p & (aligns[i] - 1)) == 0);
        free(p);
    }
    void *p = NULL;
    printf("posix_memalign(3) EINVAL %d\n", posix_memalign(&p, 3, 10) == 22);
}

int main(void) {
    big_block();
    realloc_growth();
    calloc_zeroing();
    many_small();
    alignment();
    return 0;
}
