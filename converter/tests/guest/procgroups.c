/* Process ids and groups: getppid in a child, setpgid/getpgid, setsid and
 * getsid in a child, kill of a whole process group, waitpid WNOHANG on a
 * running child, prlimit of a child, waitid with WNOWAIT then for real (P_PID and P_PGID),
 * rt_sigtimedwait taking a blocked signal (and timing out), and SIGKILL
 * status 137-style reporting through WTERMSIG. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void nap(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

int main(void) {
    pid_t me = getpid();
    int fds[2];
    pipe(fds);
    fflush(stdout);
    pid_t a = fork();
    if (a == 0) {
        char ok = getppid() == me ? 'y' : 'n';
        write(fds[1], &ok, 1);
        pid_t s = setsid();
        ok = (s == getpid() && getsid(0) == s && getpgid(0) == s) ? 'y' : 'n';
        write(fds[1], &ok, 1);
        for (;;)
            pause();
    }
    char c1 = 0, c2 = 0;
    read(fds[0], &c1, 1);
    read(fds[0], &c2, 1);
    printf("child sees parent as getppid: %c; setsid made it a leader: %c\n", c1, c2);
    int status;
    printf("waitpid WNOHANG on a running child: %d\n", waitpid(a, &status, WNOHANG));
    kill(a, SIGKILL);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    int r = waitid(P_PID, (id_t)a, &si, WEXITED | WNOWAIT);
    printf("waitid WNOWAIT: %d code CLD_KILLED %d status %d pid ok %d\n", r, si.si_code == CLD_KILLED,
           si.si_status, si.si_pid == a);
    r = waitpid(a, &status, 0);
    printf("then waitpid: pid ok %d signalled %d sig %d\n", r == a, WIFSIGNALED(status), WTERMSIG(status));

    /* A group of two children killed with one kill(-pgid). */
    pid_t leader = fork();
    if (leader == 0) {
        setpgid(0, 0);
        for (;;)
            pause();
    }
    setpgid(leader, leader);
    pid_t member = fork();
    if (member == 0) {
        for (;;)
            pause();
    }
    setpgid(member, leader);
    printf("group of the second child is the first: %d\n", getpgid(member) == leader);
    struct rlimit lim = {64, 128}, got;
    int lr = prlimit(member, RLIMIT_NOFILE, &lim, NULL);
    prlimit(member, RLIMIT_NOFILE, NULL, &got);
    printf("prlimit of a child: %d, now %ld/%ld\n", lr, (long)got.rlim_cur, (long)got.rlim_max);
    nap(50);
    kill(-leader, SIGTERM);
    int n = 0;
    for (int i = 0; i < 2; i++) {
        memset(&si, 0, sizeof si);
        if (waitid(P_PGID, (id_t)leader, &si, WEXITED) == 0 && si.si_code == CLD_KILLED && si.si_status == SIGTERM)
            n++;
    }
    printf("killed by SIGTERM through the group: %d\n", n);
    printf("no children left: %d %s\n", waitpid(-1, &status, WNOHANG), strerror(errno));

    /* sigtimedwait. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, NULL);
    raise(SIGUSR1);
    memset(&si, 0, sizeof si);
    struct timespec zero = {0, 0}, short_wait = {0, 20 * 1000 * 1000};
    r = sigtimedwait(&set, &si, &zero);
    /* glibc reports raise's SI_TKILL as SI_USER. */
    printf("sigtimedwait: %d code SI_USER %d pid ok %d\n", r, si.si_code == SI_USER, si.si_pid == me);
    r = sigtimedwait(&set, &si, &short_wait);
    printf("sigtimedwait with nothing pending: %d %s\n", r, strerror(errno));
    return 0;
}
