/* SA_RESTART vs EINTR: a blocking read on an empty pipe is interrupted by
 * SIGALRM (from alarm); without SA_RESTART it fails with EINTR, with
 * SA_RESTART it is restarted and returns the data a child writes later.
 * nanosleep returns EINTR even with SA_RESTART, with the time left. Also setitimer/getitimer,
 * sigsuspend woken by a signal, and SIGCHLD delivered to a handler when a
 * child exits. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t alarms, chlds;
static void on_alarm(int sig) { (void)sig; alarms++; }
static void on_chld(int sig) { (void)sig; chlds++; }

static void handle(int sig, void (*fn)(int), int flags) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
}

int main(void) {
    int fds[2];
    pipe(fds);
    char buf[64];

    handle(SIGALRM, on_alarm, 0);
    struct itimerval it = {{0, 0}, {0, 50000}};
    setitimer(ITIMER_REAL, &it, NULL);
    ssize_t n = read(fds[0], buf, sizeof buf);
    printf("read without SA_RESTART: %zd %s, alarms %d\n", n, n < 0 ? strerror(errno) : "", alarms);

    handle(SIGALRM, on_alarm, SA_RESTART);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        struct timespec ts = {0, 300 * 1000 * 1000};
        nanosleep(&ts, NULL);
        write(fds[1], "late data", 9);
        _exit(0);
    }
    setitimer(ITIMER_REAL, &it, NULL);
    n = read(fds[0], buf, sizeof buf);
    printf("read with SA_RESTART: %zd '%.*s', alarms %d\n", n, (int)(n > 0 ? n : 0), buf, alarms);
    waitpid(pid, NULL, 0);

    setitimer(ITIMER_REAL, &it, NULL);
    struct timespec ts = {5, 0}, rem = {0, 0};
    int r = nanosleep(&ts, &rem);
    printf("nanosleep with SA_RESTART: %d %s, alarms %d, time left between 4 and 5 s %d\n", r,
           r ? strerror(errno) : "", alarms, rem.tv_sec == 4 || (rem.tv_sec == 5 && rem.tv_nsec == 0));

    struct itimerval cur;
    it.it_value.tv_sec = 100;
    setitimer(ITIMER_REAL, &it, NULL);
    getitimer(ITIMER_REAL, &cur);
    printf("getitimer: armed %d, at most 100s %d\n", cur.it_value.tv_sec > 0 || cur.it_value.tv_usec > 0,
           cur.it_value.tv_sec <= 100);
    it.it_value.tv_sec = 0;
    it.it_value.tv_usec = 0;
    setitimer(ITIMER_REAL, &it, NULL);
    getitimer(ITIMER_REAL, &cur);
    printf("disarmed: %d\n", cur.it_value.tv_sec == 0 && cur.it_value.tv_usec == 0);

    /* SIGCHLD with a handler, waited for with sigsuspend. */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGCHLD);
    sigprocmask(SIG_BLOCK, &block, &old);
    handle(SIGCHLD, on_chld, 0);
    fflush(stdout);
    pid = fork();
    if (pid == 0)
        _exit(3);
    while (!chlds)
        sigsuspend(&old);
    int status;
    waitpid(pid, &status, 0);
    printf("SIGCHLD handled %d, child status %d\n", chlds, WEXITSTATUS(status));
    sigprocmask(SIG_SETMASK, &old, NULL);
    return 0;
}
