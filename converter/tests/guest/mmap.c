/* Anonymous memory management: mmap gives zeroed pages; munmap of a middle
 * page splits a mapping; MAP_FIXED replaces what was there with zeros;
 * MAP_FIXED_NOREPLACE fills a hole (qemu-riscv64 7.2 does not refuse an
 * occupied range with EEXIST as Linux does, so that case is left out);
 * mprotect changes access without touching contents; mremap grows (moving
 * if needed) keeping contents and zero-filling the new tail, shrinks in
 * place, and refuses to grow into used pages without MREMAP_MAYMOVE;
 * madvise(MADV_DONTNEED) zeroes private anonymous pages; and the argument
 * errors (EINVAL for unaligned addresses, zero lengths and bad flags).
 * Addresses are never printed, only offsets and contents. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGE 4096

static uint64_t sum(const unsigned char *p, size_t n) {
    uint64_t s = 0;
    for (size_t i = 0; i < n; i++)
        s = s * 31 + p[i];
    return s;
}

static int all_zero(const unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0)
            return 0;
    return 1;
}

static void pattern(unsigned char *p, size_t n, unsigned seed) {
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(i * seed + (i >> 12));
}

int main(void) {
    size_t len = 8 * PAGE;
    unsigned char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    printf("mmap 8 pages: page aligned %d zeroed %d\n", ((uintptr_t)m & (PAGE - 1)) == 0,
           all_zero(m, len));
    pattern(m, len, 3);
    printf("pattern sum %016" PRIx64 "\n", sum(m, len));

    /* Punch a hole at page 2 and map a fresh page into it. */
    printf("munmap page 2: %d\n", munmap(m + 2 * PAGE, PAGE));
    unsigned char *hole = mmap(m + 2 * PAGE, PAGE, PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    printf("MAP_FIXED_NOREPLACE into the hole: at hole %d zeroed %d\n", hole == m + 2 * PAGE,
           all_zero(hole, PAGE));
    printf("neighbours kept: page 1 sum %016" PRIx64 " page 3 sum %016" PRIx64 "\n",
           sum(m + PAGE, PAGE), sum(m + 3 * PAGE, PAGE));

    /* MAP_FIXED over existing pages replaces them with zeros. */
    unsigned char *fixed = mmap(m + 4 * PAGE, 2 * PAGE, PROT_READ | PROT_WRITE,
                                MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    printf("MAP_FIXED over pages 4-5: same address %d zeroed %d, page 6 kept %d\n",
           fixed == m + 4 * PAGE, all_zero(fixed, 2 * PAGE),
           m[6 * PAGE + 1] == (unsigned char)(1 * 3 + 6));

    /* mprotect keeps contents; read-only pages still read. */
    printf("mprotect page 0 read-only: %d\n", mprotect(m, PAGE, PROT_READ));
    printf("page 0 sum after mprotect %016" PRIx64 "\n", sum(m, PAGE));
    printf("mprotect back to rw: %d\n", mprotect(m, PAGE, PROT_READ | PROT_WRITE));
    m[0] = 0x42;
    printf("write after mprotect rw: %#x\n", m[0]);
    errno = 0;
    printf("mprotect unaligned: %d errno EINVAL %d\n", mprotect(m + 1, PAGE, PROT_READ), errno == EINVAL);

    /* mremap: grow (may move), contents kept, new tail zeroed. */
    unsigned char *r = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    pattern(r, 2 * PAGE, 7);
    uint64_t before = sum(r, 2 * PAGE), first_page = sum(r, PAGE);
    unsigned char *grown = mremap(r, 2 * PAGE, 64 * PAGE, MREMAP_MAYMOVE);
    printf("mremap grow to 64 pages: ok %d contents kept %d tail zeroed %d\n", grown != MAP_FAILED,
           sum(grown, 2 * PAGE) == before, all_zero(grown + 2 * PAGE, 62 * PAGE));
    grown[64 * PAGE - 1] = 9;
    unsigned char *shrunk = mremap(grown, 64 * PAGE, PAGE, 0);
    printf("mremap shrink in place: same address %d contents kept %d\n", shrunk == grown,
           sum(shrunk, PAGE) == first_page);
    munmap(shrunk, PAGE);

    /* Growing without MREMAP_MAYMOVE into pages that are in use fails. */
    unsigned char *three = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    errno = 0;
    void *blocked = mremap(three, PAGE, 2 * PAGE, 0);
    printf("mremap grow into a used page without MAYMOVE: failed %d errno ENOMEM %d\n",
           blocked == MAP_FAILED, errno == ENOMEM);
    /* Shrinking releases the tail and keeps the start in place. */
    three[2 * PAGE] = 5;
    void *moved = mremap(three, 3 * PAGE, 2 * PAGE, 0);
    printf("mremap shrink 3 -> 2 pages: same address %d\n", moved == three);
    munmap(three, 2 * PAGE);

    /* MADV_DONTNEED on private anonymous memory: reads back zeros. */
    pattern(m + 6 * PAGE, 2 * PAGE, 11);
    printf("madvise DONTNEED: %d zeroed %d\n", madvise(m + 6 * PAGE, 2 * PAGE, MADV_DONTNEED),
           all_zero(m + 6 * PAGE, 2 * PAGE));

    /* Argument errors. */
    errno = 0;
    void *bad = mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("mmap length 0: failed %d errno EINVAL %d\n", bad == MAP_FAILED, errno == EINVAL);
    errno = 0;
    bad = mmap(NULL, PAGE, PROT_READ, MAP_ANONYMOUS, -1, 0);
    printf("mmap neither shared nor private: failed %d errno EINVAL %d\n", bad == MAP_FAILED,
           errno == EINVAL);
    errno = 0;
    bad = mmap((void *)(uintptr_t)(PAGE + 1), PAGE, PROT_READ,
               MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    printf("mmap MAP_FIXED unaligned: failed %d errno EINVAL %d\n", bad == MAP_FAILED, errno == EINVAL);
    errno = 0;
    printf("munmap unaligned: %d errno EINVAL %d\n", munmap(m + 1, PAGE), errno == EINVAL);
    printf("munmap of an unmapped range: %d\n",
           munmap(m + 2 * PAGE, PAGE) == 0 && munmap(m + 2 * PAGE, PAGE) == 0);

    /* Unaligned lengths round up to whole pages. */
    unsigned char *odd = mmap(NULL, 100, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    odd[PAGE - 1] = 1;
    printf("mmap 100 bytes: last byte of its page writable %d\n", odd[PAGE - 1] == 1);
    munmap(odd, 100);

    /* A shared anonymous mapping, also zeroed. */
    unsigned char *sh = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    printf("MAP_SHARED|MAP_ANONYMOUS: ok %d zeroed %d\n", sh != MAP_FAILED, all_zero(sh, PAGE));
    munmap(sh, PAGE);
    printf("munmap whole range: %d\n", munmap(m, len));
    printf("sysconf(_SC_PAGESIZE) %ld\n", sysconf(_SC_PAGESIZE));
    return 0;
}
