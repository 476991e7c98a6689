/* fcntl and dup: shared offsets, close-on-exec flags, status flags,
 * F_DUPFD minimums, advisory locks, and the EBADF/EINVAL edges. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *en(int e) {
    switch (e) {
    case EBADF: return "EBADF";
    case EINVAL: return "EINVAL";
    case EMFILE: return "EMFILE";
    default: return "other";
    }
}

#define TRY(expr) ((expr) < 0 ? en(errno) : "OK")

int main(void) {
    unlink("fcntl_dup.tmp");
    int fd = open("fcntl_dup.tmp", O_CREAT | O_RDWR | O_TRUNC, 0644);
    write(fd, "0123456789", 10);
    int d = dup(fd);
    printf("dup is next %d\n", d == fd + 1);
    lseek(fd, 3, SEEK_SET);
    printf("shared offset %lld\n", (long long)lseek(d, 0, SEEK_CUR));
    printf("F_GETFD %d\n", fcntl(fd, F_GETFD));
    printf("F_SETFD %s\n", TRY(fcntl(fd, F_SETFD, FD_CLOEXEC)));
    printf("F_GETFD %d, dup's %d\n", fcntl(fd, F_GETFD), fcntl(d, F_GETFD));
    int fl = fcntl(fd, F_GETFL);
    printf("F_GETFL accmode %d append %d\n", fl & O_ACCMODE, !!(fl & O_APPEND));
    printf("F_SETFL append %s\n", TRY(fcntl(fd, F_SETFL, fl | O_APPEND)));
    printf("dup sees append %d\n", !!(fcntl(d, F_GETFL) & O_APPEND));
    write(d, "AB", 2);
    printf("appended at %lld\n", (long long)lseek(fd, 0, SEEK_CUR));
    printf("F_SETFL cannot change access mode %d\n",
           fcntl(fd, F_SETFL, O_RDONLY) == 0 && (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR);

    int hi = fcntl(fd, F_DUPFD, 50);
    printf("F_DUPFD 50 -> %d cloexec %d\n", hi, fcntl(hi, F_GETFD));
    int hic = fcntl(fd, F_DUPFD_CLOEXEC, 50);
    printf("F_DUPFD_CLOEXEC 50 -> %d cloexec %d\n", hic, fcntl(hic, F_GETFD));
    printf("F_DUPFD negative %s\n", TRY(fcntl(fd, F_DUPFD, -1)));
    printf("dup2 %d\n", dup2(fd, 40));
    printf("dup2 keeps cloexec off %d\n", fcntl(40, F_GETFD));
    printf("dup2 same fd %d\n", dup2(fd, fd));
    printf("dup3 same fd %s\n", TRY(dup3(fd, fd, 0)));
    printf("dup3 cloexec %d %d\n", dup3(fd, 41, O_CLOEXEC), fcntl(41, F_GETFD));
    printf("dup3 bad flags %s\n", TRY(dup3(fd, 42, 0x1234)));
    printf("dup bad fd %s\n", TRY(dup(999)));
    printf("dup2 bad fd %s\n", TRY(dup2(999, 5)));
    printf("fcntl bad fd %s\n", TRY(fcntl(999, F_GETFD)));
    printf("fcntl bad cmd %s\n", TRY(fcntl(fd, 9999)));

    struct flock lk = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 4};
    printf("F_SETLK %s\n", TRY(fcntl(fd, F_SETLK, &lk)));
    lk.l_type = F_WRLCK;
    printf("F_GETLK %s type unlocked %d\n", TRY(fcntl(fd, F_GETLK, &lk)), lk.l_type == F_UNLCK);
    lk.l_type = F_UNLCK;
    printf("F_SETLKW unlock %s\n", TRY(fcntl(fd, F_SETLKW, &lk)));
    printf("flock %s\n", TRY(flock(fd, LOCK_EX | LOCK_NB)));
    printf("flock unlock %s\n", TRY(flock(fd, LOCK_UN)));

    close(fd);
    char buf[16] = {0};
    printf("still open through dup: pread %zd [%s]\n", pread(d, buf, 12, 0), buf);
    close(d);
    close(hi);
    close(hic);
    close(40);
    close(41);
    printf("closed %s\n", TRY(fcntl(40, F_GETFD)));
    printf("unlink %s\n", TRY(unlink("fcntl_dup.tmp")));
    return 0;
}
