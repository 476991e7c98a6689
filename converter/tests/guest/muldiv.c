/* M extension corner cases: the high halves of 128-bit products
 * (mulh/mulhu/mulhsu), and div/rem by zero (quotient all ones, remainder
 * the dividend) and INT_MIN / -1 overflow (quotient INT_MIN, remainder 0),
 * for the 64-bit instructions and the *w variants whose 32-bit results are
 * sign-extended. Inline asm, so the compiler cannot fold or trap. */
#include <limits.h>

#include "guest.h"

static const uint64_t values[] = {
    0,
    1,
    2,
    3,
    UINT64_MAX,     /* -1 */
    UINT64_MAX - 1, /* -2 */
    7,
    0x7fffffff,
    0x80000000,
    0xffffffff,
    0xffffffff80000000, /* INT32_MIN sign-extended */
    0x100000001,
    INT64_MAX,
    (uint64_t)INT64_MIN,
    0x123456789abcdef0,
    0xfedcba9876543210,
};
#define NVALUES (sizeof values / sizeof values[0])

static void each_pair(const char *name, uint64_t (*op)(uint64_t, uint64_t)) {
    for (unsigned i = 0; i < NVALUES; i++)
        for (unsigned j = 0; j < NVALUES; j++)
            printf("%-6s %016" PRIx64 " %016" PRIx64 " -> %016" PRIx64 "\n", name,
                   values[i], values[j], op(values[i], values[j]));
}

#define OP(insn)                                                              \
    static uint64_t op_##insn(uint64_t a, uint64_t b) { return RR(#insn, a, b); }
OP(mul)
OP(mulh)
OP(mulhu)
OP(mulhsu)
OP(mulw)
OP(div)
OP(divu)
OP(rem)
OP(remu)
OP(divw)
OP(divuw)
OP(remw)
OP(remuw)

/* C-level division on volatile operands: the compiler's own div/rem code
 * paths (and its strength reduction of constant divisors). */
static void c_level(void) {
    volatile int64_t a = -7, b = 2;
    volatile uint64_t u = 0xfffffffffffffff9;
    printf("-7/2=%" PRId64 " -7%%2=%" PRId64 "\n", a / b, a % b);
    printf("u/10=%" PRIu64 " u%%10=%" PRIu64 "\n", u / 10, u % 10);
    printf("u/7=%" PRIu64 " -7/3=%" PRId64 "\n", u / 7, a / 3);
    for (volatile int32_t i = -20; i <= 20; i += 3)
        printf("%d/5=%d %d%%5=%d %d/-3=%d %d%%-3=%d\n", i, i / 5, i, i % 5, i, i / -3,
               i, i % -3);
}

int main(void) {
    each_pair("mul", op_mul);
    each_pair("mulh", op_mulh);
    each_pair("mulhu", op_mulhu);
    each_pair("mulhsu", op_mulhsu);
    each_pair("mulw", op_mulw);
    each_pair("div", op_div);
    each_pair("divu", op_divu);
    each_pair("rem", op_rem);
    each_pair("remu", op_remu);
    each_pair("divw", op_divw);
    each_pair("divuw", op_divuw);
    each_pair("remw", op_remw);
    each_pair("remuw", op_remuw);
    c_level();
    return 0;
}
