/* Builds and reshapes a small tree `t` in the working directory: create with
 * O_EXCL, O_APPEND (pwrite appends too), O_TRUNC (also on a read-only open),
 * pread/pwrite past the end, ftruncate/truncate, fsync, renames that replace,
 * move and fail (ENOTEMPTY, EISDIR, ENOTDIR, EINVAL), hard and relative
 * symbolic links, O_NOFOLLOW, unlink/rmdir errors, utimensat, private and
 * shared read-only mmap, sorted getdents64 listings and `..` from a
 * subdirectory. It prints no inode numbers, link counts, permission bits or
 * directory sizes, which differ between file systems, and leaves the final
 * tree in place: tests/all/mounts.rs runs it with its working directory in a
 * mounted host directory and compares that directory afterwards with the one
 * qemu-riscv64 leaves. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *en(int e) {
    switch (e) {
    case ENOENT: return "ENOENT";
    case EEXIST: return "EEXIST";
    case EISDIR: return "EISDIR";
    case ENOTDIR: return "ENOTDIR";
    case ENOTEMPTY: return "ENOTEMPTY";
    case EINVAL: return "EINVAL";
    case ELOOP: return "ELOOP";
    case EBADF: return "EBADF";
    default: return "other";
    }
}

#define TRY(expr) ((expr) < 0 ? en(errno) : "OK")

/* Removes `path` and everything below it. */
static void remove_tree(const char *path) {
    struct stat st;
    if (lstat(path, &st) < 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            char child[512];
            snprintf(child, sizeof child, "%s/%s", path, e->d_name);
            remove_tree(child);
        }
        if (d)
            closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static void show(const char *path) {
    char buf[64];
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        printf("%s: %s\n", path, en(errno));
        return;
    }
    ssize_t n = read(fd, buf, sizeof buf);
    struct stat st;
    fstat(fd, &st);
    printf("%s: size=%lld [", path, (long long)st.st_size);
    for (ssize_t i = 0; i < n; i++)
        putchar(buf[i] == '\n' ? '|' : buf[i] ? buf[i] : '0');
    printf("]\n");
    close(fd);
}

static void put(const char *path, const char *data, int flags) {
    int fd = open(path, O_WRONLY | O_CREAT | flags, 0644);
    if (fd < 0 || write(fd, data, strlen(data)) < 0)
        printf("put %s: %s\n", path, en(errno));
    close(fd);
}

static int cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in `dir` with their d_type, sorted. */
static void list(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) {
        printf("ls %s: %s\n", dir, en(errno));
        return;
    }
    char *names[64];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 64) {
        char t = e->d_type == DT_DIR ? 'd' : e->d_type == DT_LNK ? 'l' : e->d_type == DT_REG ? 'f' : '?';
        if (asprintf(&names[n], "%s%c", e->d_name, t) > 0)
            n++;
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp);
    printf("ls %s:", dir);
    for (int i = 0; i < n; i++) {
        size_t len = strlen(names[i]);
        printf(" %.*s(%c)", (int)len - 1, names[i], names[i][len - 1]);
        free(names[i]);
    }
    printf("\n");
}

static void kind(const char *path) {
    struct stat l, s;
    int lr = lstat(path, &l), sr = stat(path, &s);
    printf("%s: lstat %s stat %s\n", path,
           lr < 0 ? en(errno) : S_ISLNK(l.st_mode) ? "link" : S_ISDIR(l.st_mode) ? "dir" : "file",
           sr < 0 ? en(errno) : S_ISDIR(s.st_mode) ? "dir" : S_ISREG(s.st_mode) ? "file" : "other");
}

int main(void) {
    umask(022);
    remove_tree("t");
    printf("mkdir t %s\n", TRY(mkdir("t", 0755)));
    printf("mkdir t again %s\n", TRY(mkdir("t", 0755)));

    /* Creation, O_EXCL, O_APPEND. */
    int fd = open("t/a", O_CREAT | O_EXCL | O_WRONLY, 0640);
    printf("create t/a %s\n", fd < 0 ? en(errno) : "OK");
    write(fd, "hello\n", 6);
    close(fd);
    printf("create t/a again %s\n", TRY(open("t/a", O_CREAT | O_EXCL | O_WRONLY, 0640)));
    fd = open("t/a", O_WRONLY | O_APPEND);
    write(fd, "world\n", 6);
    printf("pwrite with O_APPEND %zd\n", pwrite(fd, "!", 1, 0));
    printf("offset after append %lld\n", (long long)lseek(fd, 0, SEEK_CUR));
    close(fd);
    show("t/a");

    /* Offsets, holes, truncation. */
    fd = open("t/b", O_CREAT | O_TRUNC | O_RDWR, 0600);
    write(fd, "0123456789", 10);
    char buf[16] = {0};
    lseek(fd, 2, SEEK_SET);
    printf("read at 2: %zd [%.3s]\n", read(fd, buf, 3), buf);
    printf("seek end-1: %lld\n", (long long)lseek(fd, -1, SEEK_END));
    printf("pread 4 at 5: %zd [%.4s]\n", pread(fd, buf, 4, 5), buf);
    printf("pwrite past the end: %zd\n", pwrite(fd, "AB", 2, 12));
    struct stat st;
    fstat(fd, &st);
    printf("size %lld\n", (long long)st.st_size);
    printf("pread in the hole: %zd [%d %d]\n", pread(fd, buf, 2, 10), buf[0], buf[1]);
    printf("read at the end: %zd\n", pread(fd, buf, 4, 14));
    printf("ftruncate 6 %s\n", TRY(ftruncate(fd, 6)));
    printf("fsync %s\n", TRY(fsync(fd)));
    fstat(fd, &st);
    printf("size %lld\n", (long long)st.st_size);
    close(fd);
    printf("truncate 8 %s\n", TRY(truncate("t/b", 8)));
    show("t/b");
    fd = open("t/b", O_RDONLY | O_TRUNC);
    printf("O_RDONLY|O_TRUNC read %zd write %s\n", read(fd, buf, 4), TRY(write(fd, "x", 1)));
    close(fd);
    show("t/b");
    printf("ftruncate read-only %s\n", (fd = open("t/b", O_RDONLY), TRY(ftruncate(fd, 1))));
    close(fd);
    put("t/b", "bee", O_TRUNC);

    /* Directories and renames. */
    printf("mkdir t/d %s, t/d/e %s\n", TRY(mkdir("t/d", 0750)), TRY(mkdir("t/d/e", 0755)));
    put("t/d/e/f", "deep\n", 0);
    put("t/c", "sea\n", 0);
    printf("rename c over b %s\n", TRY(rename("t/c", "t/b")));
    show("t/b");
    show("t/c");
    printf("rename e up %s\n", TRY(rename("t/d/e", "t/e")));
    show("t/e/f");
    put("t/d/x", "x", 0);
    printf("rename dir onto non-empty dir %s\n", TRY(rename("t/e", "t/d")));
    printf("rename file onto dir %s\n", TRY(rename("t/b", "t/e")));
    printf("rename dir onto file %s\n", TRY(rename("t/e", "t/b")));
    printf("rename dir into itself %s\n", TRY(rename("t/d", "t/d/x2")));
    printf("rename to the same name %s\n", TRY(rename("t/b", "t/b")));
    printf("mkdir t/g %s, t/empty %s\n", TRY(mkdir("t/g", 0755)), TRY(mkdir("t/empty", 0755)));
    printf("rename dir onto empty dir %s\n", TRY(rename("t/g", "t/empty")));
    list("t");
    list("t/empty");

    /* Links. */
    printf("link %s\n", TRY(link("t/a", "t/hard")));
    put("t/hard", "HARD\n", O_APPEND);
    show("t/a");
    printf("symlink %s %s\n", TRY(symlink("a", "t/sa")), TRY(symlink("empty/f", "t/sd")));
    char target[64];
    ssize_t n = readlink("t/sa", target, sizeof target);
    printf("readlink t/sa %zd [%.*s]\n", n, (int)(n > 0 ? n : 0), target);
    printf("readlink t/a %s\n", TRY(readlink("t/a", target, sizeof target)));
    kind("t/sa");
    kind("t/sd");
    show("t/sa");
    printf("open O_NOFOLLOW %s\n", TRY(open("t/sa", O_RDONLY | O_NOFOLLOW)));
    printf("create through dangling link %s\n", TRY(fd = open("t/sd", O_CREAT | O_WRONLY, 0644)));
    close(fd);
    kind("t/sd");
    printf("symlink over a file %s\n", TRY(symlink("x", "t/a")));

    /* Errors. */
    printf("unlink dir %s\n", TRY(unlink("t/d")));
    printf("rmdir non-empty %s\n", TRY(rmdir("t/d")));
    printf("rmdir file %s\n", TRY(rmdir("t/a")));
    printf("open below a file %s\n", TRY(open("t/a/x", O_RDONLY)));
    printf("O_DIRECTORY on a file %s\n", TRY(open("t/a", O_RDONLY | O_DIRECTORY)));
    printf("open dir for writing %s\n", TRY(open("t/d", O_WRONLY)));
    printf("open missing %s\n", TRY(open("t/nope", O_RDONLY)));
    printf("unlink missing %s\n", TRY(unlink("t/nope")));
    printf("unlink t/d/x %s, rmdir t/d %s\n", TRY(unlink("t/d/x")), TRY(rmdir("t/d")));

    /* Times. */
    struct timespec ts[2] = {{1000000000, 5}, {1234567890, 250000000}};
    printf("utimensat %s\n", TRY(utimensat(AT_FDCWD, "t/a", ts, 0)));
    stat("t/a", &st);
    printf("mtime %lld.%09ld\n", (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    ts[0].tv_nsec = UTIME_OMIT;
    ts[1] = (struct timespec){42, 0};
    fd = open("t/e", O_RDONLY | O_DIRECTORY);
    printf("futimens dir %s\n", TRY(futimens(fd, ts)));
    close(fd);
    stat("t/e", &st);
    printf("dir mtime %lld\n", (long long)st.st_mtim.tv_sec);

    /* Mappings. */
    fd = open("t/a", O_RDONLY);
    char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    printf("mmap private %s\n", p == MAP_FAILED ? en(errno) : "OK");
    if (p != MAP_FAILED) {
        printf("mapped [%.5s] byte 20 = %d\n", p, p[20]);
        p[0] = 'J';
        munmap(p, 4096);
    }
    char *q = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
    printf("mmap shared read-only %s [%.5s]\n", q == MAP_FAILED ? en(errno) : "OK", q == MAP_FAILED ? "" : q);
    if (q != MAP_FAILED)
        munmap(q, 4096);
    close(fd);
    show("t/a");

    /* `..` from a subdirectory. */
    printf("chdir t/e %s\n", TRY(chdir("t/e")));
    show("../a");
    show("../../t/e/f");
    printf("chdir .. .. %s\n", TRY(chdir("../..")));
    list("t");
    return 0;
}
