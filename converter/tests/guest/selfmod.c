/* Self-modifying code: functions written into an mmap'd RWX page, called,
 * overwritten, made visible with fence.i (and with __builtin___clear_cache,
 * which glibc turns into the riscv_flush_icache syscall), and called again;
 * rewriting one function next to another in the same page; W^X switching
 * with mprotect; and replacing the page with MAP_FIXED. An emulator that
 * keeps stale decoded code prints the old results. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

typedef long (*fn_t)(long);

/* addi a0, a0, imm (imm is 12-bit signed) */
static uint32_t addi_a0(int imm) { return ((uint32_t)imm & 0xfff) << 20 | 10u << 15 | 10u << 7 | 0x13; }
/* addi a0, zero, imm */
static uint32_t li_a0(int imm) { return ((uint32_t)imm & 0xfff) << 20 | 10u << 7 | 0x13; }
/* slli a0, a0, sh */
static uint32_t slli_a0(unsigned sh) { return sh << 20 | 10u << 15 | 1u << 12 | 10u << 7 | 0x13; }
static const uint32_t RET = 0x00008067; /* jalr zero, 0(ra) */

static void emit(void *at, const uint32_t *insns, size_t n) { memcpy(at, insns, n * sizeof insns[0]); }

static void fence_i(void) { __asm__ volatile("fence.i" ::: "memory"); }

int main(void) {
    unsigned char *page =
        mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) {
        perror("mmap rwx");
        return 1;
    }
    fn_t f = (fn_t)(void *)page;
    fn_t g = (fn_t)(void *)(page + 256);

    uint32_t v1[] = {li_a0(11), RET};
    emit(page, v1, 2);
    fence_i();
    printf("v1: %ld\n", f(0));

    uint32_t v2[] = {li_a0(22), RET};
    emit(page, v2, 2);
    fence_i();
    printf("v2: %ld\n", f(0));

    /* Change a single instruction in the middle of a longer function. */
    uint32_t v3[] = {addi_a0(1), addi_a0(2), addi_a0(3), slli_a0(4), RET};
    emit(page, v3, 5);
    fence_i();
    printf("v3(100): %ld\n", f(100));
    uint32_t patch = addi_a0(-100);
    memcpy(page + 4, &patch, 4);
    fence_i();
    printf("v3 patched(100): %ld\n", f(100));

    /* Compressed instructions: c.li a0, 5; c.jr ra. */
    uint16_t c_code[] = {0x4515, 0x8082};
    memcpy(page, c_code, sizeof c_code);
    fence_i();
    printf("compressed: %ld\n", f(0));

    /* A second function in the same page; rewriting it must not disturb f,
     * and rewriting f must not disturb it. */
    uint32_t gv[] = {addi_a0(7), RET};
    emit(page + 256, gv, 2);
    fence_i();
    printf("f %ld g(1) %ld\n", f(0), g(1));
    emit(page, v1, 2);
    fence_i();
    printf("f %ld g(1) %ld\n", f(0), g(1));

    /* The same change made visible through the cache-flush builtin. */
    emit(page, v2, 2);
    __builtin___clear_cache((char *)page, (char *)page + 8);
    printf("after __builtin___clear_cache: %ld\n", f(0));

    /* A loop that runs many times, then rewritten: a hot block is the
     * likeliest to be cached. */
    long sum = 0;
    for (int i = 0; i < 1000; i++)
        sum += f(i);
    emit(page, v1, 2);
    fence_i();
    for (int i = 0; i < 1000; i++)
        sum += f(i);
    printf("hot loop sum %ld\n", sum);

    /* W^X: write while RW, then flip to RX and call. */
    if (mprotect(page, 4096, PROT_READ | PROT_WRITE) != 0)
        perror("mprotect rw");
    uint32_t v4[] = {li_a0(44), RET};
    emit(page, v4, 2);
    if (mprotect(page, 4096, PROT_READ | PROT_EXEC) != 0)
        perror("mprotect rx");
    fence_i();
    printf("W^X: %ld\n", f(0));

    /* Replace the whole page with a fresh mapping at the same address. */
    unsigned char *again = mmap(page, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
                                MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    printf("MAP_FIXED same address: %d\n", again == page);
    uint32_t v5[] = {li_a0(55), RET};
    emit(page, v5, 2);
    fence_i();
    printf("after remap: %ld\n", f(0));
    munmap(page, 4096);
    return 0;
}
