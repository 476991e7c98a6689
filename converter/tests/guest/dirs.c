/* Directories: mkdir, rename (files and directories, RENAME_NOREPLACE),
 * unlink and rmdir errors, and getdents64 listings (sorted before printing). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *en(int e) {
    switch (e) {
    case ENOENT: return "ENOENT";
    case EEXIST: return "EEXIST";
    case EISDIR: return "EISDIR";
    case ENOTDIR: return "ENOTDIR";
    case ENOTEMPTY: return "ENOTEMPTY";
    case EINVAL: return "EINVAL";
    case EBUSY: return "EBUSY";
    default: return "other";
    }
}

#define TRY(expr) ((expr) < 0 ? en(errno) : "OK")

static int cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void list(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) {
        printf("%s: %s\n", dir, en(errno));
        return;
    }
    char *names[64];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 64) {
        char t = e->d_type == DT_DIR ? 'd' : e->d_type == DT_REG ? 'f' : e->d_type == DT_LNK ? 'l' : '?';
        char *s = malloc(strlen(e->d_name) + 3);
        sprintf(s, "%s:%c", e->d_name, t);
        names[n++] = s;
    }
    closedir(d);
    qsort(names, n, sizeof names[0], cmp);
    printf("%s:", dir);
    for (int i = 0; i < n; i++) {
        printf(" %s", names[i]);
        free(names[i]);
    }
    printf("\n");
}

static void touch(const char *p) {
    int fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    write(fd, p, strlen(p));
    close(fd);
}

static void cleanup(void) {
    const char *files[] = {"dd/a/f1", "dd/a/f2", "dd/b/f1", "dd/b/f2", "dd/c/x/y", "dd/f3",
                           "dd/f4", "dd/big/f"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++)
        unlink(files[i]);
    const char *dirs[] = {"dd/c/x", "dd/c", "dd/a", "dd/b", "dd/e", "dd/big", "dd"};
    for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++)
        rmdir(dirs[i]);
}

int main(void) {
    umask(022);
    cleanup();
    printf("mkdir dd %s\n", TRY(mkdir("dd", 0755)));
    printf("mkdir dd again %s\n", TRY(mkdir("dd", 0755)));
    printf("mkdir dd/a %s\n", TRY(mkdir("dd/a", 0700)));
    printf("mkdir missing parent %s\n", TRY(mkdir("dd/nope/x", 0755)));
    printf("mkdir trailing slash %s\n", TRY(mkdir("dd/e/", 0755)));
    struct stat st;
    stat("dd/a", &st);
    printf("dd/a mode %o dir %d\n", st.st_mode & 0777, S_ISDIR(st.st_mode));
    touch("dd/a/f1");
    touch("dd/a/f2");
    touch("dd/f3");
    list("dd");
    list("dd/a");
    printf("rename file %s\n", TRY(rename("dd/f3", "dd/f4")));
    printf("rename missing %s\n", TRY(rename("dd/f3", "dd/f5")));
    printf("rename dir %s\n", TRY(rename("dd/a", "dd/b")));
    list("dd");
    list("dd/b");
    printf("rename into itself %s\n", TRY(rename("dd/b", "dd/b/sub")));
    printf("rename dir onto file %s\n", TRY(rename("dd/b", "dd/f4")));
    printf("rename file onto dir %s\n", TRY(rename("dd/f4", "dd/b")));
    mkdir("dd/c", 0755);
    mkdir("dd/c/x", 0755);
    touch("dd/c/x/y");
    printf("rename dir onto non-empty %s\n", TRY(rename("dd/e", "dd/c")));
    unlink("dd/c/x/y");
    printf("rename dir onto empty %s\n", TRY(rename("dd/e", "dd/c/x")));
    list("dd/c");
    printf("noreplace %s\n",
           TRY(syscall(SYS_renameat2, AT_FDCWD, "dd/f4", AT_FDCWD, "dd/b/f1", 1)));
    printf("rename onto file %s\n", TRY(rename("dd/f4", "dd/b/f1")));
    int fd = open("dd/b/f1", O_RDONLY);
    char buf[32] = {0};
    read(fd, buf, sizeof buf - 1);
    close(fd);
    printf("dd/b/f1 holds [%s]\n", buf);
    list("dd");
    list("dd/b");
    printf("rmdir non-empty %s\n", TRY(rmdir("dd/b")));
    printf("rmdir file %s\n", TRY(rmdir("dd/b/f1")));
    printf("unlink dir %s\n", TRY(unlink("dd/b")));
    printf("rmdir dot %s\n", TRY(rmdir("dd/b/.")));
    printf("rmdir missing %s\n", TRY(rmdir("dd/zz")));

    mkdir("dd/big", 0755);
    for (int i = 0; i < 40; i++) {
        char p[64];
        sprintf(p, "dd/big/file-with-a-longish-name-%02d", i);
        touch(p);
    }
    /* Small getdents buffers: every name exactly once across many calls. */
    fd = open("dd/big", O_RDONLY | O_DIRECTORY);
    char dbuf[200];
    int total = 0, calls = 0;
    long n;
    while ((n = syscall(SYS_getdents64, fd, dbuf, sizeof dbuf)) > 0) {
        calls++;
        for (long off = 0; off < n;) {
            unsigned short reclen;
            memcpy(&reclen, dbuf + off + 16, 2);
            total++;
            off += reclen;
        }
    }
    printf("getdents: %d entries, many calls %d, end %ld\n", total, calls > 5, n);
    printf("getdents tiny buffer %s\n", TRY(lseek(fd, 0, SEEK_SET) < 0 ? -1 : syscall(SYS_getdents64, fd, dbuf, 8)));
    close(fd);
    for (int i = 0; i < 40; i++) {
        char p[64];
        sprintf(p, "dd/big/file-with-a-longish-name-%02d", i);
        unlink(p);
    }
    list("dd/big");
    cleanup();
    printf("cleaned %s\n", TRY(access("dd", F_OK)));
    return 0;
}
