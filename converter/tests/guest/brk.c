/* The program break: brk(0) reports it, growing it gives zeroed writable
 * memory, shrinking and growing again zeroes what was released, a request
 * below the start of the heap fails and leaves it unchanged, and sbrk
 * returns the previous break. Only differences between breaks are printed,
 * never the addresses. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static uintptr_t sys_brk(uintptr_t addr) { return (uintptr_t)syscall(SYS_brk, addr); }

static int all_zero(const unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0)
            return 0;
    return 1;
}

int main(void) {
    uintptr_t start = sys_brk(0);
    printf("brk(0) twice agrees: %d\n", sys_brk(0) == start);

    /* Grow by a bit over 1 MiB, unaligned: the kernel keeps the exact value
     * and maps whole pages behind it. */
    uintptr_t want = start + (1 << 20) + 123;
    uintptr_t got = sys_brk(want);
    printf("grow by 1 MiB + 123: moved by %" PRIuPTR "\n", got - start);
    unsigned char *heap = (unsigned char *)start;
    printf("new memory zeroed %d\n", all_zero(heap, (1 << 20) + 123));
    memset(heap, 0xab, (1 << 20) + 123);
    printf("written, last byte %#x\n", heap[(1 << 20) + 122]);

    /* Shrink to 4 KiB, grow again: the released part comes back zeroed. */
    got = sys_brk(start + 4096);
    printf("shrink to 4096: moved to +%" PRIuPTR ", first page kept %d\n", got - start,
           heap[100] == 0xab);
    got = sys_brk(start + (1 << 20));
    printf("grow again: +%" PRIuPTR ", released part zeroed %d\n", got - start,
           all_zero(heap + 4096, (1 << 20) - 4096));

    /* Below the start of the heap: refused, the break stays. */
    got = sys_brk(start - (1 << 24));
    printf("brk below start: unchanged %d\n", got == start + (1 << 20));
    got = sys_brk(start);
    printf("back to start: %d\n", got == start);

    /* sbrk on top of it (glibc tracks the break itself). */
    void *prev = sbrk(0);
    void *p1 = sbrk(8192);
    void *p2 = sbrk(0);
    printf("sbrk(8192) returned old break %d, advanced by %td\n", p1 == prev,
           (char *)p2 - (char *)p1);
    memset(p1, 1, 8192);
    void *p3 = sbrk(-8192);
    printf("sbrk(-8192) returned %td past start, now at %td\n", (char *)p3 - (char *)p1,
           (char *)sbrk(0) - (char *)p1);
    return 0;
}
