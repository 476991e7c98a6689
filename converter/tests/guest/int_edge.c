/* Integer edge cases of the base ISA: wrap-around, INT64_MIN, the sign
 * extension every RV64 *w instruction applies to its 32-bit result, lw vs
 * lwu (and the byte/half variants), slt/sltu and lui sign extension. */
#include <limits.h>

#include "guest.h"

static const uint64_t values[] = {
    0,
    1,
    UINT64_MAX,
    0x7fffffff,
    0x80000000,
    0xffffffff,
    0x100000000,
    0x17fffffff,
    INT64_MAX,
    (uint64_t)INT64_MIN,
    0x123456789abcdef0,
    0xfedcba9876543210,
};
#define NVALUES (sizeof values / sizeof values[0])

#define EACH_PAIR(insn)                                                       \
    for (unsigned i = 0; i < NVALUES; i++)                                    \
        for (unsigned j = 0; j < NVALUES; j++)                                \
    printf("%-5s %016" PRIx64 " %016" PRIx64 " -> %016" PRIx64 "\n", insn,    \
           values[i], values[j], RR(insn, values[i], values[j]))

static void loads(void) {
    /* Each loaded pattern has its top bit set so sign and zero extension
     * give different results. */
    static const uint8_t mem[8] = {0x80, 0xff, 0x7f, 0x80, 0x01, 0x80, 0xff, 0xff};
    const uint8_t *p = mem;
    uint64_t r;
#define LOAD(insn, off)                                                        \
    __asm__ volatile(insn " %0, " #off "(%1)" : "=r"(r) : "r"(p) : "memory"); \
    printf("%-3s +%d -> %016" PRIx64 "\n", insn, off, r)
    LOAD("lb", 0);
    LOAD("lbu", 0);
    LOAD("lb", 2);
    LOAD("lbu", 2);
    LOAD("lh", 0);
    LOAD("lhu", 0);
    LOAD("lh", 2);
    LOAD("lhu", 2);
    LOAD("lh", 6);
    LOAD("lhu", 6);
    LOAD("lw", 0);
    LOAD("lwu", 0);
    LOAD("lw", 4);
    LOAD("lwu", 4);
    LOAD("ld", 0);
#undef LOAD
}

static void immediates(void) {
    uint64_t r;
    /* lui sign-extends bit 31 of its result on RV64. */
    __asm__ volatile("lui %0, 0x80000" : "=r"(r));
    printf("lui 0x80000 -> %016" PRIx64 "\n", r);
    __asm__ volatile("lui %0, 0x7ffff" : "=r"(r));
    printf("lui 0x7ffff -> %016" PRIx64 "\n", r);
    __asm__ volatile("lui %0, 0xfffff" : "=r"(r));
    printf("lui 0xfffff -> %016" PRIx64 "\n", r);
    for (unsigned i = 0; i < NVALUES; i++) {
        uint64_t v = values[i];
        printf("addi   %016" PRIx64 " -2048 -> %016" PRIx64 "\n", v, RI("addi", v, -2048));
        printf("addi   %016" PRIx64 " 2047 -> %016" PRIx64 "\n", v, RI("addi", v, 2047));
        printf("addiw  %016" PRIx64 " 1 -> %016" PRIx64 "\n", v, RI("addiw", v, 1));
        printf("addiw  %016" PRIx64 " 0 -> %016" PRIx64 "\n", v, RI("addiw", v, 0));
        printf("addiw  %016" PRIx64 " -1 -> %016" PRIx64 "\n", v, RI("addiw", v, -1));
        printf("slti   %016" PRIx64 " -1 -> %016" PRIx64 "\n", v, RI("slti", v, -1));
        printf("sltiu  %016" PRIx64 " -1 -> %016" PRIx64 "\n", v, RI("sltiu", v, -1));
        printf("sltiu  %016" PRIx64 " 1 -> %016" PRIx64 "\n", v, RI("sltiu", v, 1));
        printf("xori   %016" PRIx64 " -1 -> %016" PRIx64 "\n", v, RI("xori", v, -1));
        printf("andi   %016" PRIx64 " -2048 -> %016" PRIx64 "\n", v, RI("andi", v, -2048));
        printf("ori    %016" PRIx64 " 0x7ff -> %016" PRIx64 "\n", v, RI("ori", v, 0x7ff));
    }
}

static void c_level(void) {
    /* Wrap-around through unsigned arithmetic (defined behaviour in C) and
     * conversions the compiler emits as sext.w / zext instructions. */
    volatile uint64_t max = INT64_MAX, min = (uint64_t)INT64_MIN;
    volatile uint32_t umax32 = UINT32_MAX;
    volatile int32_t imin32 = INT32_MIN;
    printf("INT64_MAX+1 = %" PRId64 "\n", (int64_t)(max + 1));
    printf("INT64_MIN-1 = %" PRId64 "\n", (int64_t)(min - 1));
    printf("-INT64_MIN = %" PRId64 "\n", (int64_t)(0 - min));
    printf("INT64_MIN*-1 = %" PRId64 "\n", (int64_t)(min * UINT64_MAX));
    printf("UINT32_MAX+1 (32-bit) = %" PRIu32 "\n", (uint32_t)(umax32 + 1));
    printf("(int64)INT32_MIN = %" PRId64 "\n", (int64_t)imin32);
    printf("(uint64)(uint32)INT32_MIN = %" PRIu64 "\n", (uint64_t)(uint32_t)imin32);
    printf("(int32)0x180000000 = %" PRId32 "\n", (int32_t)(uint32_t)(max >> 31));
    printf("INT64_MIN < 0: %d, INT64_MIN < INT64_MAX unsigned: %d\n",
           (int64_t)min < 0, min < max);
}

int main(void) {
    EACH_PAIR("add");
    EACH_PAIR("sub");
    EACH_PAIR("addw");
    EACH_PAIR("subw");
    EACH_PAIR("slt");
    EACH_PAIR("sltu");
    EACH_PAIR("and");
    EACH_PAIR("or");
    EACH_PAIR("xor");
    loads();
    immediates();
    c_level();
    return 0;
}
