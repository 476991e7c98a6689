/* Shared helpers for the differential guest programs: register-level
 * instruction wrappers and printing of FP bit patterns and fflags.
 * Everything is static inline so a program pays only for what it uses,
 * and the output format stays the same across programs. */
#ifndef CTR2WASM_GUEST_H
#define CTR2WASM_GUEST_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Run one R-type instruction on two 64-bit registers. Inline asm keeps the
 * compiler from constant-folding the operation we want the CPU to do. */
#define RR(insn, a, b)                                                        \
    ({                                                                        \
        uint64_t r_;                                                          \
        __asm__ volatile(insn " %0, %1, %2"                                   \
                         : "=r"(r_)                                           \
                         : "r"((uint64_t)(a)), "r"((uint64_t)(b)));           \
        r_;                                                                   \
    })

/* One instruction with a register and an immediate operand. */
#define RI(insn, a, imm)                                                      \
    ({                                                                        \
        uint64_t r_;                                                          \
        __asm__ volatile(insn " %0, %1, %2"                                   \
                         : "=r"(r_)                                           \
                         : "r"((uint64_t)(a)), "i"(imm));                     \
        r_;                                                                   \
    })

/* One instruction with a single register operand. */
#define R1(insn, a)                                                           \
    ({                                                                        \
        uint64_t r_;                                                          \
        __asm__ volatile(insn " %0, %1" : "=r"(r_) : "r"((uint64_t)(a)));    \
        r_;                                                                   \
    })

static inline uint64_t bits_d(double d) {
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

static inline uint32_t bits_f(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static inline double from_bits_d(uint64_t u) {
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

static inline float from_bits_f(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* fflags as letters, in the spec's bit order NV DZ OF UF NX; '-' for clear. */
static inline const char *flags_str(unsigned flags) {
    static char buf[6];
    const char *names = "NDOUX";
    for (int i = 0; i < 5; i++)
        buf[i] = (flags >> (4 - i)) & 1 ? names[i] : '-';
    buf[5] = '\0';
    return buf;
}

static inline void clear_fflags(void) { __asm__ volatile("fsflags zero"); }

static inline unsigned read_fflags(void) {
    unsigned f;
    __asm__ volatile("frflags %0" : "=r"(f));
    return f;
}

#endif
