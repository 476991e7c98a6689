/* execve of /proc/self/exe with a flag argument: the new image gets argv and
 * envp as given, keeps the pid, keeps fds without O_CLOEXEC and loses those
 * with it, keeps ignored signals ignored and handled ones back to default,
 * and keeps the signal mask. A vfork child that execs lets the parent go on;
 * execve of a missing file fails with ENOENT and the process goes on. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_usr1(int sig) { (void)sig; }

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "--child") == 0) {
        printf("child image: argc %d argv[2] '%s' env FOO=%s\n", argc, argv[2], getenv("FOO"));
        printf("child image: pid same %d\n", getpid() == atoi(argv[3]));
        printf("child image: fd 10 open %d, fd 11 (cloexec) open %d\n", fcntl(10, F_GETFD) >= 0,
               fcntl(11, F_GETFD) >= 0);
        struct sigaction sa;
        sigaction(SIGUSR1, NULL, &sa);
        printf("child image: SIGUSR1 default %d\n", sa.sa_handler == SIG_DFL);
        sigaction(SIGUSR2, NULL, &sa);
        printf("child image: SIGUSR2 ignored %d\n", sa.sa_handler == SIG_IGN);
        sigset_t mask;
        sigprocmask(SIG_SETMASK, NULL, &mask);
        printf("child image: SIGHUP still blocked %d\n", sigismember(&mask, SIGHUP));
        return 5;
    }
    if (argc > 1 && strcmp(argv[1], "--vfork") == 0)
        return 9;

    char *bad[] = {"nothing", NULL};
    int r = execv("/no/such/program", bad);
    printf("exec of a missing file: %d %s\n", r, strerror(errno));

    /* vfork + exec: the parent resumes once the child has exec'd. */
    pid_t pid = vfork();
    if (pid == 0) {
        char *args[] = {"self", "--vfork", NULL};
        execv("/proc/self/exe", args);
        _exit(127);
    }
    int status;
    waitpid(pid, &status, 0);
    printf("vfork+exec child exited %d\n", WEXITSTATUS(status));

    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        dup2(1, 10);
        fcntl(dup2(1, 11), F_SETFD, FD_CLOEXEC);
        signal(SIGUSR1, on_usr1);
        signal(SIGUSR2, SIG_IGN);
        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGHUP);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        char pidbuf[16];
        snprintf(pidbuf, sizeof pidbuf, "%d", getpid());
        char *args[] = {"renamed", "--child", "two words", pidbuf, NULL};
        char *env[] = {"FOO=bar baz", NULL};
        execve("/proc/self/exe", args, env);
        perror("execve");
        _exit(127);
    }
    waitpid(pid, &status, 0);
    printf("exec'd child exited %d\n", WEXITSTATUS(status));
    return 0;
}
