/* Accesses at the edges of mmap'd pages: misaligned loads and stores that
 * straddle two mapped pages (the slow path of a software MMU), aligned
 * accesses filling the last bytes of a page whose neighbour is unmapped or
 * PROT_NONE (which must not fault), and string functions whose
 * word-at-a-time reads end exactly at such a page boundary. */
#include <string.h>
#include <sys/mman.h>

#include "guest.h"

#define PAGE 4096

int main(void) {
    unsigned char *two = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (two == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    for (unsigned i = 0; i < 2 * PAGE; i++)
        two[i] = (unsigned char)(i * 7 + (i >> 8));

    /* Straddling loads at every offset that crosses the boundary. */
    for (unsigned back = 1; back < 8; back++) {
        unsigned char *p = two + PAGE - back;
        uint64_t ld, lw = 0, lh = 0;
        __asm__ volatile("ld %0, 0(%1)" : "=r"(ld) : "r"(p) : "memory");
        if (back < 4)
            __asm__ volatile("lw %0, 0(%1)" : "=r"(lw) : "r"(p) : "memory");
        if (back < 2)
            __asm__ volatile("lh %0, 0(%1)" : "=r"(lh) : "r"(p) : "memory");
        double d;
        __asm__ volatile("fld %0, 0(%1)" : "=f"(d) : "r"(p) : "memory");
        printf("page-%u: ld %016" PRIx64 " lw %016" PRIx64 " lh %016" PRIx64 " fld %016" PRIx64 "\n",
               back, ld, lw, lh, bits_d(d));
    }
    /* Straddling stores, then the bytes on both sides. */
    for (unsigned back = 1; back < 8; back++) {
        unsigned char *p = two + PAGE - back;
        __asm__ volatile("sd %0, 0(%1)" : : "r"(0x8877665544332211ull + back), "r"(p) : "memory");
        printf("sd at page-%u:", back);
        for (int i = -2; i < 10; i++)
            printf(" %02x", p[i]);
        printf("\n");
    }
    __asm__ volatile("sw %0, 0(%1)" : : "r"(0xcafef00dull), "r"(two + PAGE - 2) : "memory");
    __asm__ volatile("fsd %0, 0(%1)" : : "f"(1.0), "r"(two + PAGE - 5) : "memory");
    printf("after sw/fsd:");
    for (int i = -6; i < 6; i++)
        printf(" %02x", two[PAGE + i]);
    printf("\n");

    /* memcpy and memmove across the boundary. */
    unsigned char tmp[64];
    memcpy(tmp, two + PAGE - 29, 64);
    memmove(two + PAGE - 13, two + PAGE - 40, 50);
    uint64_t h = 0;
    for (int i = 0; i < 64; i++)
        h = h * 31 + tmp[i] + two[PAGE - 32 + i];
    printf("memcpy/memmove across: %016" PRIx64 "\n", h);

    /* Unmap the second page: the last doubleword of the first must still be
     * accessible with aligned loads and stores. */
    munmap(two + PAGE, PAGE);
    uint64_t last;
    __asm__ volatile("sd %1, 0(%2)\n\tld %0, 0(%2)"
                     : "=&r"(last)
                     : "r"(0x0102030405060708ull), "r"(two + PAGE - 8)
                     : "memory");
    printf("last doubleword before a hole: %016" PRIx64 "\n", last);

    /* A NUL-terminated string ending on the last byte before the hole. */
    for (unsigned len = 0; len < 20; len++) {
        char *s = (char *)two + PAGE - 1 - len;
        memset(s, 'a' + (int)(len % 26), len);
        s[len] = '\0';
        printf("len %2u: strlen %zu strchr(0) at %td memchr %d strrchr %d\n", len, strlen(s),
               strchr(s, '\0') - s, memchr(s, 'a' + (int)(len % 26), len + 1) != NULL,
               strrchr(s, 'z') != NULL);
    }

    /* The same with a PROT_NONE neighbour instead of a hole. */
    unsigned char *guard = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    mprotect(guard + PAGE, PAGE, PROT_NONE);
    memset(guard, 'q', PAGE - 1);
    guard[PAGE - 1] = '\0';
    printf("strlen before PROT_NONE: %zu\n", strlen((char *)guard));
    printf("strlen of last 5: %zu\n", strlen((char *)guard + PAGE - 6));
    munmap(guard, 2 * PAGE);
    munmap(two, PAGE);
    return 0;
}
