/* File metadata and whole-file calls: umask and chmod, utimensat, statx,
 * access, chdir/fchdir/getcwd, sendfile, copy_file_range, fallocate, fsync,
 * and mmap of a written file (private and shared read-only). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *en(int e) {
    switch (e) {
    case ENOENT: return "ENOENT";
    case EACCES: return "EACCES";
    case EINVAL: return "EINVAL";
    case EBADF: return "EBADF";
    case ENOTDIR: return "ENOTDIR";
    case ERANGE: return "ERANGE";
    default: return "other";
    }
}

#define TRY(expr) ((expr) < 0 ? en(errno) : "OK")

static void mode_of(const char *p) {
    struct stat st;
    if (stat(p, &st) < 0)
        printf("%s: %s\n", p, en(errno));
    else
        printf("%s: mode %o\n", p, st.st_mode & 07777);
}

static void cat(const char *p) {
    char buf[128] = {0};
    int fd = open(p, O_RDONLY);
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    printf("%s: %zd [%s]\n", p, n, buf);
}

static void cleanup(void) {
    const char *f[] = {"fm/a", "fm/b", "fm/c", "fm/d", "fm/x", "fm/sub/f"};
    for (size_t i = 0; i < sizeof f / sizeof *f; i++)
        unlink(f[i]);
    rmdir("fm/sub");
    rmdir("fm");
}

int main(void) {
    cleanup();
    printf("umask old %o\n", umask(027) == 027 ? 0 : 1);
    mkdir("fm", 0777);
    mode_of("fm");
    int fd = open("fm/a", O_CREAT | O_WRONLY, 0666);
    mode_of("fm/a");
    printf("umask returns %o\n", umask(022));
    printf("chmod %s\n", TRY(chmod("fm/a", 04751)));
    mode_of("fm/a");
    printf("fchmod %s\n", TRY(fchmod(fd, 0600)));
    mode_of("fm/a");
    printf("chmod missing %s\n", TRY(chmod("fm/zz", 0600)));
    write(fd, "0123456789abcdef", 16);
    printf("fsync %s fdatasync %s\n", TRY(fsync(fd)), TRY(fdatasync(fd)));
    printf("fsync bad fd %s\n", TRY(fsync(99)));
    close(fd);

    printf("access R %s W %s X %s\n", TRY(access("fm/a", R_OK)), TRY(access("fm/a", W_OK)),
           TRY(access("fm/a", X_OK)));
    chmod("fm/a", 0610);
    printf("access X with owner x %s\n", TRY(access("fm/a", X_OK)));
    printf("access dir X %s\n", TRY(access("fm", X_OK)));
    printf("faccessat bad mode %s\n", TRY(faccessat(AT_FDCWD, "fm/a", 8, 0)));
    chmod("fm/a", 0644);

    struct timespec ts[2] = {{.tv_sec = 1000000000, .tv_nsec = 5}, {.tv_sec = 1234567890, .tv_nsec = 42}};
    printf("utimensat %s\n", TRY(utimensat(AT_FDCWD, "fm/a", ts, 0)));
    struct stat st;
    stat("fm/a", &st);
    printf("atime %lld.%ld mtime %lld.%ld\n", (long long)st.st_atim.tv_sec, st.st_atim.tv_nsec,
           (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    ts[0].tv_nsec = UTIME_OMIT;
    ts[1].tv_sec = 42;
    ts[1].tv_nsec = 0;
    utimensat(AT_FDCWD, "fm/a", ts, 0);
    stat("fm/a", &st);
    printf("omit: atime %lld mtime %lld\n", (long long)st.st_atim.tv_sec, (long long)st.st_mtim.tv_sec);
    ts[1].tv_nsec = 1000000000;
    printf("utimensat bad nsec %s\n", TRY(utimensat(AT_FDCWD, "fm/a", ts, 0)));

    struct statx sx;
    printf("statx %s\n", TRY(statx(AT_FDCWD, "fm/a", 0, STATX_BASIC_STATS, &sx)));
    printf("statx basic %d size %llu mode %o nlink %u mtime %lld same ino %d\n",
           (sx.stx_mask & STATX_BASIC_STATS) == STATX_BASIC_STATS, (unsigned long long)sx.stx_size,
           sx.stx_mode & 07777, sx.stx_nlink, (long long)sx.stx_mtime.tv_sec, sx.stx_ino == st.st_ino);
    fd = open("fm/a", O_RDONLY);
    printf("statx empty path %s size %llu\n", TRY(statx(fd, "", AT_EMPTY_PATH, STATX_SIZE, &sx)),
           (unsigned long long)sx.stx_size);
    printf("fstatat empty path %s size %lld\n", TRY(fstatat(fd, "", &st, AT_EMPTY_PATH)),
           (long long)st.st_size);
    printf("fstatat empty without flag %s\n", TRY(fstatat(fd, "", &st, 0)));
    struct statfs sf;
    printf("fstatfs %s namelen %ld\n", TRY(fstatfs(fd, &sf)), (long)sf.f_namelen);
    printf("statfs %s\n", TRY(statfs("fm", &sf)));

    int out = open("fm/b", O_CREAT | O_WRONLY | O_TRUNC, 0644);
    off_t off = 4;
    printf("sendfile %zd off %lld\n", sendfile(out, fd, &off, 6), (long long)off);
    printf("sendfile at offset %zd\n", sendfile(out, fd, NULL, 3));
    close(out);
    cat("fm/b");
    out = open("fm/c", O_CREAT | O_WRONLY | O_TRUNC, 0644);
    loff_t in_off = 10, out_off = 2;
    printf("copy_file_range %zd in %lld out %lld\n",
           copy_file_range(fd, &in_off, out, &out_off, 100, 0), (long long)in_off, (long long)out_off);
    printf("copy_file_range bad flags %s\n", TRY(copy_file_range(fd, NULL, out, NULL, 1, 1)));
    close(out);
    fstat(open("fm/c", O_RDONLY), &st);
    printf("fm/c size %lld\n", (long long)st.st_size);

    char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    printf("mmap private %s [%.16s]\n", p == MAP_FAILED ? en(errno) : "OK", p);
    p[0] = 'X';
    munmap(p, 4096);
    char *q = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
    printf("mmap shared read-only %s [%.16s]\n", q == MAP_FAILED ? en(errno) : "OK", q);
    munmap(q, 4096);
    q = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    printf("mmap shared writable of read-only fd %s\n", q == MAP_FAILED ? en(errno) : "OK");
    close(fd);
    cat("fm/a");

    fd = open("fm/d", O_CREAT | O_RDWR, 0644);
    printf("fallocate %s\n", TRY(fallocate(fd, 0, 100, 50)));
    fstat(fd, &st);
    printf("size after fallocate %lld\n", (long long)st.st_size);
    printf("fallocate bad len %s\n", TRY(fallocate(fd, 0, 0, 0)));
    close(fd);

    char cwd[4096];
    mkdir("fm/sub", 0755);
    int here = open(".", O_RDONLY | O_DIRECTORY);
    printf("chdir %s\n", TRY(chdir("fm/sub")));
    getcwd(cwd, sizeof cwd);
    printf("cwd ends with /fm/sub %d\n", strlen(cwd) >= 7 && strcmp(cwd + strlen(cwd) - 7, "/fm/sub") == 0);
    printf("getcwd small %s\n", getcwd(cwd, 3) ? "OK" : en(errno));
    fd = open("f", O_CREAT | O_WRONLY, 0644);
    close(fd);
    printf("chdir .. %s\n", TRY(chdir("..")));
    printf("relative after chdir %s\n", TRY(access("sub/f", F_OK)));
    printf("chdir file %s\n", TRY(chdir("a")));
    printf("fchdir %s\n", TRY(fchdir(here)));
    printf("back %s\n", TRY(access("fm/sub/f", F_OK)));
    int afd = open("fm/a", O_RDONLY);
    printf("fchdir file %s\n", TRY(fchdir(afd)));
    printf("openat relative to file fd %s\n", TRY(openat(afd, "x", O_RDONLY)));
    int dfd = open("fm", O_RDONLY | O_DIRECTORY);
    printf("openat relative to dir fd %s\n", TRY(openat(dfd, "sub/f", O_RDONLY)));
    printf("mkdirat %s\n", TRY(mkdirat(dfd, "x", 0755)));
    printf("unlinkat dir %s\n", TRY(unlinkat(dfd, "x", AT_REMOVEDIR)));
    printf("fchmodat %s\n", TRY(fchmodat(dfd, "a", 0640, 0)));
    mode_of("fm/a");
    close(afd);
    close(dfd);
    close(here);

    /* An unnamed file, named later through its /proc/self/fd magic link. */
    int t = open("fm", O_TMPFILE | O_RDWR, 0600);
    printf("O_TMPFILE %s\n", t >= 0 ? "OK" : en(errno));
    write(t, "tmp", 3);
    char lp[64];
    sprintf(lp, "/proc/self/fd/%d", t);
    printf("O_TMPFILE read-only %s\n", TRY(open("fm", O_TMPFILE | O_RDONLY, 0600)));
    printf("linkat %s\n", TRY(linkat(AT_FDCWD, lp, AT_FDCWD, "fm/x", AT_SYMLINK_FOLLOW)));
    close(t);
    cat("fm/x");
    /* A file unlinked while open can still be reopened through its fd link. */
    t = open("fm/x", O_RDWR);
    unlink("fm/x");
    sprintf(lp, "/proc/self/fd/%d", t);
    int r = open(lp, O_RDONLY);
    char tb[8] = {0};
    printf("reopen unlinked %s read %zd [%s] own offset %lld\n", r >= 0 ? "OK" : en(errno),
           read(r, tb, sizeof tb - 1), tb, (long long)lseek(t, 0, SEEK_CUR));
    close(r);
    close(t);
    cleanup();
    printf("cleaned %s\n", TRY(access("fm", F_OK)));
    return 0;
}
