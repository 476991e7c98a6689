/* setjmp/longjmp and sigsetjmp/siglongjmp: the value passed through
 * (longjmp(env, 0) arrives as 1), callee-saved integer and FP registers
 * restored (glibc saves s0-s11, sp, ra and fs0-fs11), volatile locals
 * keeping their latest value, nested jump buffers, and jumping out of deep
 * call chains. */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>

static jmp_buf outer, inner;
static int depth_reached;

static void __attribute__((noinline)) dive(int depth, int target) {
    depth_reached = depth;
    if (depth > target) /* never true; keeps gcc's -Winfinite-recursion quiet */
        return;
    if (depth < target)
        dive(depth + 1, target);
    longjmp(outer, depth);
}

static double __attribute__((noinline)) fp_work(double x) {
    /* Enough live FP values that gcc keeps some in callee-saved fs regs. */
    double a = x * 1.5, b = x * 2.5, c = x * 3.5, d = x * 4.5, e = x * 5.5, f = x * 6.5;
    if (setjmp(inner) == 0) {
        volatile double g = a + b;
        (void)g;
        longjmp(inner, 7);
    }
    return a + b * c - d / e + f;
}

int main(void) {
    volatile int counter = 0;
    int r = setjmp(outer);
    counter++;
    printf("setjmp returned %d, counter %d\n", r, counter);
    if (r == 0)
        longjmp(outer, 0); /* delivered as 1 */
    if (r == 1)
        dive(0, 50);
    if (r == 50)
        printf("came back from depth %d\n", depth_reached);

    printf("fp_work %.17g\n", fp_work(2.0));

    /* Nested buffers: the inner jump lands in the inner frame only. */
    jmp_buf a, b;
    volatile int trail = 0;
    if (setjmp(a) == 0) {
        if (setjmp(b) == 0) {
            trail = trail * 10 + 1;
            longjmp(b, 2);
        }
        trail = trail * 10 + 2;
        longjmp(a, 3);
    }
    trail = trail * 10 + 3;
    printf("trail %d\n", trail);

    /* sigsetjmp with savemask restores the signal mask on siglongjmp. */
    sigjmp_buf sj;
    sigset_t set, now;
    sigemptyset(&set);
    sigprocmask(SIG_SETMASK, &set, NULL);
    if (sigsetjmp(sj, 1) == 0) {
        sigaddset(&set, SIGUSR1);
        sigprocmask(SIG_BLOCK, &set, NULL);
        sigprocmask(SIG_BLOCK, NULL, &now);
        printf("before siglongjmp SIGUSR1 blocked %d\n", sigismember(&now, SIGUSR1));
        siglongjmp(sj, 1);
    }
    sigprocmask(SIG_BLOCK, NULL, &now);
    printf("after siglongjmp SIGUSR1 blocked %d\n", sigismember(&now, SIGUSR1));
    return 0;
}
