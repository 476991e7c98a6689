#define _GNU_SOURCE
/* Non-blocking I/O on pipes and the generic ioctls: FIONBIO and
 * fcntl(F_SETFL, O_NONBLOCK) make a read of an empty pipe fail with EAGAIN
 * and a write to a full one stop short, instead of waiting; clearing the
 * flag again makes a read wait for a child's write. FIOCLEX and FIONCLEX
 * set the close-on-exec flag of any fd; the terminal ioctls on a pipe are
 * ENOTTY. /proc/self/cmdline holds argv, NUL-separated (from argv[1] on:
 * argv[0] is a host path under qemu). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static void try_read(const char *what, int fd) {
    char c;
    errno = 0;
    ssize_t n = read(fd, &c, 1);
    printf("%s: read %zd errno %s\n", what, n, n < 0 ? strerrorname_np(errno) : "-");
}

int main(int argc, char **argv) {
    int fds[2];
    if (pipe(fds) != 0) {
        perror("pipe");
        return 1;
    }
    int on = 1, off = 0;
    printf("FIONBIO on: %d\n", ioctl(fds[0], FIONBIO, &on));
    printf("O_NONBLOCK now %d\n", (fcntl(fds[0], F_GETFL) & O_NONBLOCK) != 0);
    try_read("empty, FIONBIO", fds[0]);
    printf("FIONBIO off: %d\n", ioctl(fds[0], FIONBIO, &off));
    printf("O_NONBLOCK now %d\n", (fcntl(fds[0], F_GETFL) & O_NONBLOCK) != 0);
    fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
    try_read("empty, F_SETFL O_NONBLOCK", fds[0]);

    /* A full non-blocking pipe takes what fits, then EAGAIN. */
    fcntl(fds[1], F_SETFL, O_NONBLOCK);
    static char big[100000];
    ssize_t total = 0, n;
    while ((n = write(fds[1], big, sizeof big)) > 0) {
        total += n;
    }
    printf("filled %zd, then %zd errno %s\n", total, n, strerrorname_np(errno));
    char drain[4096];
    while (read(fds[0], drain, sizeof drain) > 0) {
    }
    try_read("drained", fds[0]);

    /* Blocking again: the read waits for the child. */
    fcntl(fds[0], F_SETFL, 0);
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        usleep(50000);
        write(fds[1], "x", 1);
        _exit(0);
    }
    try_read("blocking, child writes later", fds[0]);
    waitpid(child, NULL, 0);

    printf("FIOCLEX: %d, F_GETFD %d\n", ioctl(fds[1], FIOCLEX), fcntl(fds[1], F_GETFD));
    printf("FIONCLEX: %d, F_GETFD %d\n", ioctl(fds[1], FIONCLEX), fcntl(fds[1], F_GETFD));
    pid_t pgrp;
    errno = 0;
    printf("TIOCGPGRP on a pipe: %d %s\n", ioctl(fds[0], TIOCGPGRP, &pgrp),
           strerrorname_np(errno));

    if (argc > 1) {
        char buf[256];
        int fd = open("/proc/self/cmdline", O_RDONLY);
        ssize_t len = read(fd, buf, sizeof buf);
        close(fd);
        ssize_t i = 0;
        while (i < len && buf[i]) {
            i++;
        }
        printf("cmdline after argv[0] (%zd bytes):", len - i);
        for (; i < len; i++) {
            putchar(buf[i] ? buf[i] : '|');
        }
        putchar('\n');
    }
    (void)argv;
    return 0;
}
