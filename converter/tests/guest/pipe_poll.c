#define _GNU_SOURCE
/* Pipes and poll: a child writes lines into a pipe with pauses, the parent
 * polls the read end and reads until EOF; poll with a zero timeout on an
 * empty pipe; a full pipe is not writable (non-blocking write fails with
 * EAGAIN after 64 KiB); a write end whose reader is gone reports POLLERR
 * and write fails with EPIPE when SIGPIPE is ignored; pselect6 on a ready
 * pipe; FIONREAD counts waiting bytes. Output is ordered by the pipe. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(void) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        perror("pipe2");
        return 1;
    }
    printf("cloexec on both ends: %d %d\n", fcntl(fds[0], F_GETFD) == FD_CLOEXEC,
           fcntl(fds[1], F_GETFD) == FD_CLOEXEC);
    struct pollfd p = {.fd = fds[0], .events = POLLIN};
    printf("empty pipe, poll(0): %d revents %#x\n", poll(&p, 1, 0), p.revents);
    fflush(stdout);

    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        for (int i = 0; i < 3; i++) {
            struct timespec ts = {0, 20 * 1000 * 1000};
            nanosleep(&ts, NULL);
            char line[32];
            int n = snprintf(line, sizeof line, "line %d\n", i);
            write(fds[1], line, (size_t)n);
        }
        _exit(0);
    }
    close(fds[1]);
    char buf[256];
    size_t total = 0;
    int polls = 0;
    for (;;) {
        p.revents = 0;
        int r = poll(&p, 1, 5000);
        if (r != 1)
            break;
        polls++;
        ssize_t n = read(fds[0], buf + total, sizeof buf - 1 - total);
        if (n <= 0) {
            printf("EOF seen with revents %s\n", (p.revents & POLLHUP) ? "POLLHUP" : "POLLIN");
            break;
        }
        total += (size_t)n;
    }
    buf[total] = 0;
    printf("read:\n%s", buf);
    printf("polled at least 3 times: %d\n", polls >= 3);
    int status;
    waitpid(pid, &status, 0);
    printf("child exited %d\n", WEXITSTATUS(status));
    close(fds[0]);

    /* Fill a non-blocking pipe. */
    pipe2(fds, O_NONBLOCK);
    char chunk[4096];
    memset(chunk, 'x', sizeof chunk);
    size_t filled = 0;
    for (;;) {
        ssize_t n = write(fds[1], chunk, sizeof chunk);
        if (n < 0) {
            printf("full after %zu bytes: %s\n", filled, errno == EAGAIN ? "EAGAIN" : strerror(errno));
            break;
        }
        filled += (size_t)n;
    }
    int waiting = 0;
    ioctl(fds[0], FIONREAD, &waiting);
    printf("FIONREAD %d\n", waiting);
    struct pollfd w = {.fd = fds[1], .events = POLLOUT};
    printf("full pipe writable: %d\n", poll(&w, 1, 0));
    fd_set rs;
    FD_ZERO(&rs);
    FD_SET(fds[0], &rs);
    struct timespec zero = {0, 0};
    int r = pselect(fds[0] + 1, &rs, NULL, NULL, &zero, NULL);
    printf("pselect: %d readable %d\n", r, FD_ISSET(fds[0], &rs) != 0);
    close(fds[0]);
    signal(SIGPIPE, SIG_IGN);
    w.revents = 0;
    poll(&w, 1, 0);
    printf("reader gone: POLLERR %d\n", (w.revents & POLLERR) != 0);
    printf("write: %zd %s\n", write(fds[1], "x", 1), strerror(errno));
    close(fds[1]);

    /* Default SIGPIPE kills a writer. */
    pipe(fds);
    close(fds[0]);
    pid = fork();
    if (pid == 0) {
        signal(SIGPIPE, SIG_DFL);
        write(fds[1], "x", 1);
        _exit(0);
    }
    close(fds[1]);
    waitpid(pid, &status, 0);
    printf("writer to a closed pipe: signalled %d signal %d\n", WIFSIGNALED(status), WTERMSIG(status));
    return 0;
}
