/* The rt_sigframe as a SA_SIGINFO handler sees it: siginfo from kill
 * (si_code SI_USER, si_pid) and from tgkill (SI_TKILL); the ucontext's
 * saved registers are those at the interruption (a value parked in s1 by
 * inline asm around a raise), uc_sigmask is the mask before the handler,
 * the mask inside adds the signal; edits to a saved register
 * reach the interrupted code after sigreturn; FP registers survive a
 * handler that uses FP; a handler on sigaltstack sees SS_ONSTACK. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

static volatile int seen_code, seen_pid_ok, seen_s1_ok, mask_has_sig, oldmask_has_sig;
static volatile double fp_sink;

static void handler(int sig, siginfo_t *info, void *ucv) {
    ucontext_t *uc = ucv;
    seen_code = info->si_code;
    seen_pid_ok = info->si_pid == getpid();
    seen_s1_ok = uc->uc_mcontext.__gregs[9] == 0x1234;
    uc->uc_mcontext.__gregs[9] = 0x5678;
    sigset_t now;
    sigprocmask(SIG_SETMASK, NULL, &now);
    mask_has_sig = sigismember(&now, sig);
    oldmask_has_sig = sigismember(&uc->uc_sigmask, sig);
    double x = 1.0;
    for (int i = 0; i < 10; i++)
        x = x * 3.25 + 0.5;
    fp_sink = x;
}

static volatile int alt_ok, alt_flags;
static char altstack[1 << 16] __attribute__((aligned(16)));
static void on_alt(int sig, siginfo_t *info, void *ucv) {
    (void)sig;
    (void)info;
    (void)ucv;
    char here;
    alt_ok = &here >= altstack && &here < altstack + sizeof altstack;
    stack_t cur;
    sigaltstack(NULL, &cur);
    alt_flags = cur.ss_flags;
}

static long raise_with_s1(int sig, long tid, int use_tgkill) {
    register long s1 __asm__("s1") = 0x1234;
    register long a0 __asm__("a0");
    register long a1 __asm__("a1");
    register long a2 __asm__("a2");
    register long a7 __asm__("a7");
    if (use_tgkill) {
        a0 = getpid();
        a1 = tid;
        a2 = sig;
        a7 = SYS_tgkill;
    } else {
        a0 = getpid();
        a1 = sig;
        a2 = 0;
        a7 = SYS_kill;
    }
    __asm__ volatile("ecall" : "+r"(a0), "+r"(s1) : "r"(a1), "r"(a2), "r"(a7) : "memory");
    return s1;
}

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGUSR2);
    sigaction(SIGUSR1, &sa, NULL);

    register double keep __asm__("fs0") = 2.5;
    __asm__ volatile("" : "+f"(keep));
    long s1 = raise_with_s1(SIGUSR1, 0, 0);
    __asm__ volatile("" : "+f"(keep));
    printf("kill: si_code SI_USER %d, si_pid ok %d, saved s1 ok %d, s1 after 0x%lx\n",
           seen_code == SI_USER, seen_pid_ok, seen_s1_ok, s1);
    printf("mask in handler: signal %d; uc_sigmask has signal %d\n", mask_has_sig, oldmask_has_sig);
    printf("fs0 survived: %d (handler computed %.2f)\n", keep == 2.5, fp_sink);
    sigset_t now;
    sigprocmask(SIG_SETMASK, NULL, &now);
    printf("mask restored: %d\n", !sigismember(&now, SIGUSR1) && !sigismember(&now, SIGUSR2));

    s1 = raise_with_s1(SIGUSR1, gettid(), 1);
    printf("tgkill: si_code SI_TKILL %d, s1 after 0x%lx\n", seen_code == SI_TKILL, s1);

    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
    sigaltstack(&ss, NULL);
    sa.sa_sigaction = on_alt;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigaction(SIGUSR2, &sa, NULL);
    raise(SIGUSR2);
    printf("altstack: on it %d, SS_ONSTACK %d\n", alt_ok, alt_flags == SS_ONSTACK);
    return 0;
}
