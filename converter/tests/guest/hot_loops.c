/* Hot loops, run thousands of times so an emulator that translates hot code
 * runs them translated, then made to do what translated code must get exactly
 * right: fault part-way (the handler sees the faulting pc and address, and
 * every store before the fault), take misaligned accesses, divide by zero,
 * mix in atomics and floating point, run rewritten code after fence.i, and
 * be interrupted by a timer signal while spinning. */
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <ucontext.h>

#define WARM 3000
#define PAGE 4096

static sigjmp_buf recover;
static volatile uintptr_t fault_addr, fault_pc;

static void on_segv(int sig, siginfo_t *si, void *ctx) {
    (void)sig;
    fault_addr = (uintptr_t)si->si_addr;
    fault_pc = ((ucontext_t *)ctx)->uc_mcontext.__gregs[REG_PC];
    siglongjmp(recover, 1);
}

/* Sums n words from p, recording progress in *done after each one. */
__attribute__((noinline)) static uint64_t sum_words(const uint64_t *p, long n, volatile long *done) {
    uint64_t s = 0;
    for (long i = 0; i < n; i++) {
        s += p[i] ^ (uint64_t)i;
        *done = i + 1;
    }
    return s;
}

/* Writes n words to p, counting them in *done. */
__attribute__((noinline)) static void fill_words(uint64_t *p, long n, volatile long *done) {
    for (long i = 0; i < n; i++) {
        p[i] = (uint64_t)i * 0x9e3779b97f4a7c15u;
        *done = i + 1;
    }
}

static void faults(void) {
    unsigned char *base = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) {
        perror("mmap");
        return;
    }
    uint64_t *words = (uint64_t *)base;
    long per_page = PAGE / 8;
    for (long i = 0; i < per_page; i++)
        words[i] = (uint64_t)i * 7;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGSEGV, &sa, NULL);

    volatile long done = 0;
    uint64_t warm = 0;
    for (int r = 0; r < WARM; r++)
        warm += sum_words(words, 16, &done);
    printf("warm sum %" PRIu64 "\n", warm);

    /* The second page becomes unreadable: the load of its first word faults. */
    mprotect(base + PAGE, PAGE, PROT_NONE);
    if (sigsetjmp(recover, 1) == 0) {
        uint64_t s = sum_words(words, per_page + 8, &done);
        printf("no fault? %" PRIu64 "\n", s);
    } else {
        printf("load fault at page+%ld, pc at sum_words+%ld, %ld words done\n",
               (long)(fault_addr - (uintptr_t)(base + PAGE)), (long)(fault_pc - (uintptr_t)sum_words), (long)done);
    }

    for (int r = 0; r < WARM; r++)
        fill_words(words, 16, &done);
    /* Read-only second page: the store of its first word faults, all before it landed. */
    mprotect(base + PAGE, PAGE, PROT_READ);
    if (sigsetjmp(recover, 1) == 0) {
        fill_words(words + 8, per_page, &done);
        printf("no fault?\n");
    } else {
        uint64_t check = 0;
        for (long i = 0; i < per_page; i++)
            check = check * 31 + words[i];
        printf("store fault at page+%ld, pc at fill_words+%ld, %ld words done, check %" PRIx64 "\n",
               (long)(fault_addr - (uintptr_t)(base + PAGE)), (long)(fault_pc - (uintptr_t)fill_words), (long)done,
               check);
    }
    signal(SIGSEGV, SIG_DFL);
    munmap(base, 2 * PAGE);
}

static void misaligned(void) {
    static unsigned char buf[64];
    for (int i = 0; i < 64; i++)
        buf[i] = (unsigned char)(i * 37 + 1);
    uint64_t acc = 0;
    for (int r = 0; r < WARM; r++) {
        for (int off = 1; off < 8; off += 2) {
            uint64_t v;
            uint32_t w;
            __asm__ volatile("ld %0, 0(%1)" : "=r"(v) : "r"(buf + off));
            __asm__ volatile("lw %0, 0(%1)" : "=r"(w) : "r"(buf + off + 16));
            acc = acc * 3 + v + w;
            __asm__ volatile("sd %0, 0(%1)" ::"r"(acc), "r"(buf + 40 + off) : "memory");
        }
    }
    uint64_t tail;
    memcpy(&tail, buf + 40, 8);
    printf("misaligned %" PRIx64 " %" PRIx64 "\n", acc, tail);
}

static void arithmetic(void) {
    static const int64_t vals[] = {0, 1, -1, 7, -7, INT64_MIN, INT64_MAX, 0x123456789abcdefll, INT32_MIN, INT32_MAX};
    const int n = sizeof vals / sizeof vals[0];
    uint64_t h = 0;
    for (int r = 0; r < WARM / 10; r++) {
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                int64_t a = vals[i], b = vals[j];
                uint64_t q, m, hi, hu, w;
                __asm__ volatile("div %0, %1, %2" : "=r"(q) : "r"(a), "r"(b));
                __asm__ volatile("remu %0, %1, %2" : "=r"(m) : "r"(a), "r"(b));
                __asm__ volatile("mulh %0, %1, %2" : "=r"(hi) : "r"(a), "r"(b));
                __asm__ volatile("mulhu %0, %1, %2" : "=r"(hu) : "r"(a), "r"(b));
                __asm__ volatile("divw %0, %1, %2" : "=r"(w) : "r"(a), "r"(b));
                h = (h ^ q) * 0x100000001b3u + m + (hi ^ hu) + w;
            }
        }
    }
    printf("arithmetic %" PRIx64 "\n", h);
}

static void atomics_and_fp(void) {
    static uint64_t counter;
    static uint32_t word;
    double x = 1.0, sum = 0.0;
    for (int r = 0; r < WARM * 4; r++) {
        __atomic_fetch_add(&counter, (uint64_t)r, __ATOMIC_SEQ_CST);
        uint32_t expected = word;
        __atomic_compare_exchange_n(&word, &expected, expected * 3 + 1, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
        x = x * 1.0000001 + 1e-9;
        sum += x / (r + 1);
    }
    printf("atomics %" PRIu64 " %" PRIu32 " fp %.17g %.17g\n", counter, word, x, sum);
}

typedef long (*fn_t)(long);

static void rewritten(void) {
    uint32_t *code = mmap(NULL, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (code == MAP_FAILED) {
        perror("mmap");
        return;
    }
    fn_t f = (fn_t)(void *)code;
    for (int version = 1; version <= 3; version++) {
        code[0] = (uint32_t)version << 20 | 10u << 15 | 10u << 7 | 0x13; /* addi a0, a0, version */
        code[1] = 0x00008067;                                             /* ret */
        __asm__ volatile("fence.i" ::: "memory");
        long acc = 0;
        for (int r = 0; r < WARM; r++)
            acc = f(acc);
        printf("rewritten v%d: %ld\n", version, acc);
    }
    munmap(code, PAGE);
}

static volatile sig_atomic_t ticks;
static void on_alarm(int sig) {
    (void)sig;
    ticks++;
}

static void interrupted(void) {
    signal(SIGALRM, on_alarm);
    struct itimerval it = {{0, 0}, {0, 20000}};
    setitimer(ITIMER_REAL, &it, NULL);
    uint64_t spins = 0;
    while (!ticks)
        spins++;
    printf("timer interrupted a hot loop: %s\n", spins > 0 ? "yes" : "no");
}

int main(void) {
    faults();
    misaligned();
    arithmetic();
    atomics_and_fp();
    rewritten();
    interrupted();
    return 0;
}
