/* fork, wait and pipes: the child gets a copy-on-write copy of memory (its
 * writes are invisible to the parent and the reverse), exit statuses and
 * deaths by signal come back through waitpid, a pipe carries data from
 * child to parent and reports EOF when the writer exits, and vfork + _exit
 * resumes the parent. Output is ordered by waiting, never by timing. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static int global = 1;

int main(void) {
    int *heap = malloc(sizeof *heap);
    *heap = 10;
    int *shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    *shared = 100;
    /* Children print too: nothing may sit in the buffer they inherit. Later children
     * leave with _exit, which does not flush the inherited copy. */
    fflush(stdout);

    pid_t pid = fork();
    if (pid == 0) {
        global = 2;
        *heap = 20;
        *shared = 200;
        printf("child: global %d heap %d shared %d\n", global, *heap, *shared);
        fflush(stdout);
        _exit(7);
    }
    int status;
    pid_t waited = waitpid(pid, &status, 0);
    printf("parent: waited for the child %d, exited %d status %d\n", pid > 0 && waited == pid,
           WIFEXITED(status), WEXITSTATUS(status));
    printf("parent: global %d heap %d shared %d (MAP_SHARED is shared)\n", global, *heap, *shared);

    /* The parent writes after fork; the child must see the old value whichever runs first. */
    int fds[2];
    pipe(fds);
    pid = fork();
    if (pid == 0) {
        close(fds[0]);
        char msg[64];
        int n = snprintf(msg, sizeof msg, "global seen by child %d", global);
        write(fds[1], msg, (size_t)n);
        _exit(0);
    }
    global = 3;
    close(fds[1]);
    char buf[128];
    size_t total = 0;
    ssize_t n;
    while ((n = read(fds[0], buf + total, sizeof buf - 1 - total)) > 0)
        total += (size_t)n;
    buf[total] = '\0';
    printf("from pipe: '%s', then EOF %d\n", buf, n == 0);
    waitpid(pid, &status, 0);
    close(fds[0]);

    /* A child killed by a signal. */
    pid = fork();
    if (pid == 0) {
        raise(SIGKILL);
        _exit(1);
    }
    waitpid(pid, &status, 0);
    printf("killed child: signalled %d signal %d\n", WIFSIGNALED(status), WTERMSIG(status));
    pid = fork();
    if (pid == 0) {
        int *volatile unmapped = (int *)8; /* volatile: hide the bad address from gcc */
        *unmapped = 0;
        _exit(1);
    }
    waitpid(pid, &status, 0);
    printf("crashing child: signalled %d signal %d\n", WIFSIGNALED(status), WTERMSIG(status));

    /* vfork: the parent resumes after the child's _exit. */
    pid = vfork();
    if (pid == 0)
        _exit(42);
    waitpid(pid, &status, 0);
    printf("vfork child exited %d\n", WEXITSTATUS(status));

    /* wait with no children left. */
    printf("wait with no children: %d\n", wait(NULL) == -1);

    /* Many children, reaped in any order, statuses summed. */
    int sum = 0;
    for (int i = 1; i <= 5; i++)
        if (fork() == 0)
            _exit(i * 3);
    for (int i = 0; i < 5; i++) {
        wait(&status);
        sum += WEXITSTATUS(status);
    }
    printf("five children, status sum %d\n", sum);
    return 0;
}
