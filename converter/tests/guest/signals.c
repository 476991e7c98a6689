/* Signal delivery with handlers: SIGSEGV with SA_SIGINFO (si_addr, and
 * SEGV_MAPERR for an unmapped page vs SEGV_ACCERR for a write to a
 * read-only one) left through siglongjmp; SIGILL and SIGTRAP (ebreak)
 * handlers that skip the faulting instruction by editing the pc in the
 * ucontext, which only works with the kernel's exact rt_sigframe layout and
 * a working rt_sigreturn; raise and kill with blocked, pending and
 * unblocked signals; SA_RESETHAND; SA_NODEFER; and a handler on an
 * alternate stack. Prints offsets and codes, never addresses. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

static sigjmp_buf escape;
static volatile sig_atomic_t last_signal, hits;
static volatile uintptr_t fault_addr;
static volatile int fault_code;

static void on_segv(int sig, siginfo_t *info, void *uc) {
    (void)uc;
    last_signal = sig;
    fault_addr = (uintptr_t)info->si_addr;
    fault_code = info->si_code;
    siglongjmp(escape, 1);
}

/* Skips the faulting instruction: its length comes from its low two bits. */
static void skip_instruction(int sig, siginfo_t *info, void *ucv) {
    ucontext_t *uc = ucv;
    uintptr_t pc = uc->uc_mcontext.__gregs[REG_PC];
    uint16_t low;
    memcpy(&low, (void *)pc, sizeof low);
    uc->uc_mcontext.__gregs[REG_PC] = pc + ((low & 3) == 3 ? 4 : 2);
    last_signal = sig;
    fault_code = info->si_code;
    fault_addr = (uintptr_t)info->si_addr == pc;
    /* a0 as the handler saw it; changed here, it must reach the code after the return. */
    uc->uc_mcontext.__gregs[REG_A0] += 1000;
    hits++;
}

static void count(int sig) {
    last_signal = sig;
    hits++;
}

static char altstack[65536] __attribute__((aligned(16)));
static volatile int on_altstack;
static void check_stack(int sig) {
    char here;
    last_signal = sig;
    on_altstack = &here >= altstack && &here < altstack + sizeof altstack;
}

static void install(int sig, void (*action)(int, siginfo_t *, void *), int flags) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = action;
    sa.sa_flags = SA_SIGINFO | flags;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
}

int main(void) {
    unsigned char *page = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(page + 4096, 4096);
    install(SIGSEGV, on_segv, 0);
    if (sigsetjmp(escape, 1) == 0)
        *(volatile int *)(page + 4096 + 24) = 1;
    printf("unmapped write: signal %d offset %#lx code %s\n", last_signal,
           (unsigned long)(fault_addr - (uintptr_t)page),
           fault_code == SEGV_MAPERR ? "SEGV_MAPERR" : "other");
    mprotect(page, 4096, PROT_READ);
    if (sigsetjmp(escape, 1) == 0)
        *(volatile int *)(page + 100) = 1;
    printf("read-only write: signal %d offset %#lx code %s\n", last_signal,
           (unsigned long)(fault_addr - (uintptr_t)page),
           fault_code == SEGV_ACCERR ? "SEGV_ACCERR" : "other");
    /* siglongjmp restored the mask, so SIGSEGV is deliverable again. */
    if (sigsetjmp(escape, 1) == 0)
        (void)*(volatile int *)(page + 4096);
    printf("unmapped read: signal %d offset %#lx\n", last_signal,
           (unsigned long)(fault_addr - (uintptr_t)page));

    install(SIGILL, skip_instruction, 0);
    register long a0 __asm__("a0") = 5;
    /* csrrw zero, cycle, zero: a 32-bit illegal instruction (cycle is read-only). An
     * all-zero word would be two 16-bit illegal instructions and trap twice. */
    __asm__ volatile(".4byte 0xc0001073" : "+r"(a0));
    printf("SIGILL: signal %d code %s si_addr is pc %d, a0 after return %ld\n", last_signal,
           fault_code == ILL_ILLOPC ? "ILL_ILLOPC" : "other", (int)fault_addr, a0);
    install(SIGTRAP, skip_instruction, 0);
    a0 = 7;
    __asm__ volatile(".option push\n\t.option norvc\n\tebreak\n\t.option pop" : "+r"(a0));
    printf("SIGTRAP: signal %d code %s a0 after return %ld\n", last_signal,
           fault_code == TRAP_BRKPT ? "TRAP_BRKPT" : "other", a0);

    /* Blocked signals stay pending until unblocked, then arrive once: standard signals do
     * not queue. raise() is thread-directed (tgkill) and kill() process-directed, and the
     * two pending sets are separate, so one of each arrives twice. */
    signal(SIGUSR1, count);
    sigset_t block, pending;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigprocmask(SIG_BLOCK, &block, NULL);
    hits = 0;
    raise(SIGUSR1);
    raise(SIGUSR1);
    sigpending(&pending);
    printf("raised twice while blocked: delivered %d, pending %d\n", (int)hits,
           sigismember(&pending, SIGUSR1));
    sigprocmask(SIG_UNBLOCK, &block, NULL);
    printf("after unblock: delivered %d\n", (int)hits);
    sigprocmask(SIG_BLOCK, &block, NULL);
    hits = 0;
    raise(SIGUSR1);
    kill(getpid(), SIGUSR1);
    kill(getpid(), SIGUSR1);
    sigprocmask(SIG_UNBLOCK, &block, NULL);
    printf("raise + kill + kill while blocked, then unblocked: delivered %d\n", (int)hits);

    /* SA_RESETHAND: the second SIGUSR2 takes the default action, which we
     * then replace with SIG_IGN to survive it. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = count;
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGUSR2, &sa, NULL);
    raise(SIGUSR2);
    struct sigaction now;
    sigaction(SIGUSR2, NULL, &now);
    printf("SA_RESETHAND: handled %d, handler now SIG_DFL %d\n", last_signal, now.sa_handler == SIG_DFL);
    signal(SIGUSR2, SIG_IGN);
    raise(SIGUSR2);
    printf("ignored SIGUSR2 survived\n");

    /* sigaltstack: the handler runs on the alternate stack. */
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
    printf("sigaltstack: %d\n", sigaltstack(&ss, NULL));
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = check_stack;
    sa.sa_flags = SA_ONSTACK;
    sigaction(SIGWINCH, &sa, NULL);
    raise(SIGWINCH);
    stack_t cur;
    sigaltstack(NULL, &cur);
    printf("SA_ONSTACK handler on the alternate stack %d, flags after return %d\n", on_altstack,
           cur.ss_flags);

    /* A signal the process does not handle or ignore, whose default is to
     * be ignored, changes nothing. */
    raise(SIGCHLD);
    printf("SIGCHLD with default action ignored\n");
    return 0;
}
