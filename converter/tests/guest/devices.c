/* /dev: null, zero, full, urandom and the /dev/fd, stdin/stdout/stderr
 * symlinks, and /proc/self/fd naming this program's own files. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static const char *en(int e) {
    switch (e) {
    case ENOSPC: return "ENOSPC";
    case ENOENT: return "ENOENT";
    case EACCES: return "EACCES";
    default: return "other";
    }
}

#define TRY(expr) ((expr) < 0 ? en(errno) : "OK")

static void dev(const char *p) {
    struct stat st;
    if (stat(p, &st) < 0) {
        printf("%s: %s\n", p, en(errno));
        return;
    }
    printf("%s: chr %d %u,%u mode %o\n", p, S_ISCHR(st.st_mode), major(st.st_rdev),
           minor(st.st_rdev), st.st_mode & 0777);
}

static void rl(const char *p) {
    char buf[256];
    ssize_t n = readlink(p, buf, sizeof buf);
    printf("readlink %s: %.*s\n", p, n < 0 ? 0 : (int)n, buf);
}

int main(void) {
    const char *devs[] = {"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom"};
    for (size_t i = 0; i < sizeof devs / sizeof *devs; i++)
        dev(devs[i]);
    char buf[64];
    int fd = open("/dev/null", O_RDWR);
    printf("null read %zd write %zd\n", read(fd, buf, sizeof buf), write(fd, "abc", 3));
    close(fd);
    fd = open("/dev/zero", O_RDWR);
    memset(buf, 7, sizeof buf);
    ssize_t n = read(fd, buf, sizeof buf);
    int zeros = 1;
    for (int i = 0; i < 64; i++)
        zeros &= buf[i] == 0;
    printf("zero read %zd all zero %d write %zd\n", n, zeros, write(fd, "abc", 3));
    close(fd);
    fd = open("/dev/full", O_WRONLY);
    printf("full write %s\n", TRY(write(fd, "abc", 3)));
    close(fd);
    fd = open("/dev/urandom", O_RDONLY);
    printf("urandom read %zd\n", read(fd, buf, 48));
    close(fd);

    rl("/dev/fd");
    rl("/dev/stdin");
    rl("/dev/stdout");
    rl("/dev/stderr");
    fd = open("/dev/stdout", O_WRONLY);
    printf("open /dev/stdout %s\n", fd >= 0 ? "OK" : en(errno));
    fflush(stdout);
    write(fd, "through /dev/stdout\n", 20);
    close(fd);

    unlink("devices.tmp");
    fd = open("devices.tmp", O_CREAT | O_RDWR, 0644);
    write(fd, "hello", 5);
    char link[64], target[4096];
    sprintf(link, "/proc/self/fd/%d", fd);
    n = readlink(link, target, sizeof target);
    printf("fd link ends with /devices.tmp %d\n",
           n >= 12 && memcmp(target + n - 12, "/devices.tmp", 12) == 0);
    int again = open(link, O_RDONLY);
    printf("reopen through /proc/self/fd %s read %zd\n", again >= 0 ? "OK" : en(errno),
           read(again, buf, sizeof buf));
    close(again);
    struct stat a, b;
    fstat(fd, &a);
    stat(link, &b);
    printf("same file %d\n", a.st_ino == b.st_ino && a.st_dev == b.st_dev);
    close(fd);
    unlink("devices.tmp");
    printf("closed fd link %s\n", TRY(readlink(link, target, sizeof target)));
    return 0;
}
