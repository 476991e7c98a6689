/* Zicond: czero.eqz (rd = rs2 == 0 ? 0 : rs1) and czero.nez (rd = rs2 != 0
 * ? 0 : rs1), and the branchless select built from them. gcc 12's
 * assembler does not know Zicond, so the instructions are spelled with
 * .insn. qemu-riscv64 7.2, our reference, predates Zicond (qemu 8.1): the
 * harness builds its copy with -DZICOND_IN_C, which computes the same
 * values from the specification's definition in plain C. */
#include "guest.h"

#ifdef ZICOND_IN_C
#define CZERO_EQZ(a, b) ((uint64_t)(b) == 0 ? 0 : (uint64_t)(a))
#define CZERO_NEZ(a, b) ((uint64_t)(b) != 0 ? 0 : (uint64_t)(a))
#else
/* OP opcode 0x33, funct7 7: funct3 5 is czero.eqz, funct3 7 is czero.nez. */
#define CZERO_EQZ(a, b)                                                        \
    ({                                                                        \
        uint64_t r_;                                                          \
        __asm__ volatile(".insn r 0x33, 5, 7, %0, %1, %2"                     \
                         : "=r"(r_)                                           \
                         : "r"((uint64_t)(a)), "r"((uint64_t)(b)));           \
        r_;                                                                   \
    })
#define CZERO_NEZ(a, b)                                                        \
    ({                                                                        \
        uint64_t r_;                                                          \
        __asm__ volatile(".insn r 0x33, 7, 7, %0, %1, %2"                     \
                         : "=r"(r_)                                           \
                         : "r"((uint64_t)(a)), "r"((uint64_t)(b)));           \
        r_;                                                                   \
    })
#endif

static const uint64_t values[] = {
    0, 1, UINT64_MAX, 0x80000000, 0x100000000, 0x8000000000000000, 0x0123456789abcdef,
};
#define NVALUES (sizeof values / sizeof values[0])

int main(void) {
    for (unsigned i = 0; i < NVALUES; i++)
        for (unsigned j = 0; j < NVALUES; j++)
            printf("%016" PRIx64 " %016" PRIx64 ": czero.eqz %016" PRIx64 " czero.nez %016" PRIx64
                   "\n",
                   values[i], values[j], CZERO_EQZ(values[i], values[j]),
                   CZERO_NEZ(values[i], values[j]));
    /* cond ? a : b without a branch, the sequence compilers emit. */
    for (unsigned c = 0; c < NVALUES; c++) {
        uint64_t a = 0x1111, b = 0x2222;
        uint64_t sel = CZERO_EQZ(a, values[c]) | CZERO_NEZ(b, values[c]);
        printf("select(%016" PRIx64 ") = %#" PRIx64 "\n", values[c], sel);
    }
    /* rd = x0 must discard the result (a hint-like no-op); rs2 = x0 makes
     * the condition always zero. */
    uint64_t eqz_x0, nez_x0;
#ifdef ZICOND_IN_C
    eqz_x0 = CZERO_EQZ(0x1234, 0);
    nez_x0 = CZERO_NEZ(0x1234, 0);
#else
    __asm__ volatile(".insn r 0x33, 5, 7, zero, %0, %0" : : "r"(values[1]));
    __asm__ volatile(".insn r 0x33, 5, 7, %0, %1, zero" : "=r"(eqz_x0) : "r"(0x1234ull));
    __asm__ volatile(".insn r 0x33, 7, 7, %0, %1, zero" : "=r"(nez_x0) : "r"(0x1234ull));
#endif
    printf("rs2=x0: czero.eqz %#" PRIx64 " czero.nez %#" PRIx64 "\n", eqz_x0, nez_x0);
    return 0;
}
