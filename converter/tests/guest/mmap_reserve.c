/* Huge address-space reservations, as V8 and other runtimes make: 256 GiB
 * of PROT_NONE | MAP_NORESERVE, with a few pages made read-write and used
 * (at the start, the middle and the end), a hole punched with munmap that
 * makes mprotect across it fail with ENOMEM while still changing the rest,
 * MAP_FIXED over a used page giving zeroes, and a 256 GiB read-write
 * reservation of which only a few pages are touched. Everything is
 * unmapped at the end. Addresses are never printed, only offsets and
 * contents. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#define PAGE 4096UL
#define RESERVE (256UL << 30)

static void fill(unsigned char *p, unsigned seed) {
    for (unsigned long i = 0; i < PAGE; i++)
        p[i] = (unsigned char)(i * seed + 1);
}

static uint64_t sum(const unsigned char *p) {
    uint64_t s = 0;
    for (unsigned long i = 0; i < PAGE; i++)
        s = s * 31 + p[i];
    return s;
}

static void check(const char *what, int ok) {
    printf("%s: %s\n", what, ok ? "ok" : "FAILED");
}

int main(void) {
    unsigned char *base = mmap(NULL, RESERVE, PROT_NONE,
                               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    check("reserve 256 GiB PROT_NONE", base != MAP_FAILED);
    if (base == MAP_FAILED)
        return 1;

    unsigned long offs[] = {0, RESERVE / 2 - PAGE, RESERVE / 2, RESERVE - 2 * PAGE};
    for (int i = 0; i < 4; i++) {
        int r = mprotect(base + offs[i], PAGE, PROT_READ | PROT_WRITE);
        printf("mprotect RW at page %lu: %d\n", offs[i] / PAGE, r);
        fill(base + offs[i], (unsigned)i + 3);
    }
    for (int i = 0; i < 4; i++)
        printf("page %lu sum %016" PRIx64 "\n", offs[i] / PAGE, sum(base + offs[i]));

    /* A hole in the middle: mprotect across it changes the mapped pages around it and
     * fails with ENOMEM. */
    int r = munmap(base + RESERVE / 2 + PAGE, PAGE);
    printf("munmap hole: %d\n", r);
    errno = 0;
    r = mprotect(base + RESERVE / 2 - PAGE, 3 * PAGE, PROT_READ);
    printf("mprotect across hole: %d %s\n", r, errno == ENOMEM ? "ENOMEM" : strerror(errno));
    printf("read-only page %lu sum %016" PRIx64 "\n", (RESERVE / 2) / PAGE,
           sum(base + RESERVE / 2));

    /* MAP_FIXED over a used page gives a fresh zero page. */
    void *p = mmap(base + RESERVE - 2 * PAGE, PAGE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    check("MAP_FIXED inside reservation", p == base + RESERVE - 2 * PAGE);
    printf("replaced page sum %016" PRIx64 "\n", sum(base + RESERVE - 2 * PAGE));
    printf("first page still %016" PRIx64 "\n", sum(base));

    r = munmap(base, RESERVE);
    printf("munmap reservation: %d\n", r);

    /* A read-write reservation used lazily: only the touched pages cost memory. */
    unsigned char *rw = mmap(NULL, RESERVE, PROT_READ | PROT_WRITE,
                             MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    check("reserve 256 GiB RW", rw != MAP_FAILED);
    if (rw == MAP_FAILED)
        return 1;
    for (unsigned long off = 0; off < RESERVE; off += RESERVE / 8)
        rw[off + 8] = (unsigned char)(off >> 32);
    uint64_t s = 0;
    for (unsigned long off = 0; off < RESERVE; off += RESERVE / 8)
        s = s * 131 + rw[off + 8] + rw[off + PAGE / 2];
    printf("rw reservation sum %" PRIu64 "\n", s);
    r = munmap(rw, RESERVE);
    printf("munmap rw reservation: %d\n", r);
    return 0;
}
