#define _GNU_SOURCE
/* posix_spawn, which glibc runs as clone(CLONE_VM | CLONE_VFORK): the child
 * shares the parent's memory until it execs, so a failed exec comes back
 * as posix_spawn's own error (ENOENT), with no child left to wait for. A
 * spawn that works runs /proc/self/exe again with an argument, and its
 * exit status reaches waitpid. vfork shares memory the same way: what the
 * child writes before _exit is what the parent reads.
 *
 * qemu-riscv64 7.2 runs CLONE_VFORK as a plain fork, so its copy (built
 * with -DVFORK_IS_FORK) carries over by exit status what Linux shares: the
 * 127 of glibc's failed spawn child is the ENOENT posix_spawn returns on
 * Linux, and the vfork child's value comes back in its status. */
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv) {
    if (argc > 1) {
        printf("child: %s\n", argv[1]);
        return 3;
    }
    pid_t pid = 0;
    char *missing[] = {"/nonexistent/ctr2wasm-spawn", NULL};
    int err = posix_spawn(&pid, missing[0], NULL, NULL, missing, environ);
#ifdef VFORK_IS_FORK
    if (err == 0) {
        int status;
        waitpid(pid, &status, 0);
        err = WEXITSTATUS(status) == 127 ? ENOENT : 0;
    }
#endif
    printf("missing program: %s\n", err ? strerrorname_np(err) : "spawned");
    if (err == 0) {
        int status;
        waitpid(pid, &status, 0);
        printf("  child status %d\n", WEXITSTATUS(status));
    }
    int status;
    errno = 0;
    printf("children left: %d %s\n", (int)waitpid(-1, &status, WNOHANG),
           strerrorname_np(errno));

    fflush(stdout);
    char *again[] = {"spawn", "hello", NULL};
    err = posix_spawn(&pid, "/proc/self/exe", NULL, NULL, again, environ);
    printf("self: %s\n", err ? strerrorname_np(err) : "spawned");
    if (err == 0 && waitpid(pid, &status, 0) == pid) {
        printf("  exited %d\n", WEXITSTATUS(status));
    }

    volatile int shared = 0;
    fflush(stdout);
    pid = vfork();
    if (pid == 0) {
        shared = 42;
        _exit(shared);
    }
    waitpid(pid, &status, 0);
#ifdef VFORK_IS_FORK
    shared = WEXITSTATUS(status);
#endif
    printf("vfork child wrote %d\n", shared);
    return 0;
}
