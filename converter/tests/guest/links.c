/* Symlinks and hard links: symlink, readlink, lstat vs stat, link counts and
 * shared inodes, ELOOP, ENOTDIR, O_NOFOLLOW, creating through a dangling
 * symlink, ENAMETOOLONG. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *en(int e) {
    switch (e) {
    case ENOENT: return "ENOENT";
    case EEXIST: return "EEXIST";
    case ELOOP: return "ELOOP";
    case ENOTDIR: return "ENOTDIR";
    case EINVAL: return "EINVAL";
    case EPERM: return "EPERM";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    default: return "other";
    }
}

#define TRY(expr) ((expr) < 0 ? en(errno) : "OK")

static void rl(const char *p) {
    char buf[256];
    ssize_t n = readlink(p, buf, sizeof buf);
    if (n < 0)
        printf("readlink %s: %s\n", p, en(errno));
    else
        printf("readlink %s: [%.*s]\n", p, (int)n, buf);
}

static const char *kind(mode_t m) {
    return S_ISLNK(m) ? "link" : S_ISDIR(m) ? "dir" : S_ISREG(m) ? "file" : "other";
}

static void cleanup(void) {
    const char *f[] = {"ln/file", "ln/hard", "ln/sym", "ln/dsym", "ln/target", "ln/loop1",
                       "ln/loop2", "ln/self", "ln/dirlink", "ln/sub/inner", "ln/up", "ln/chain0"};
    for (size_t i = 0; i < sizeof f / sizeof *f; i++)
        unlink(f[i]);
    for (int i = 1; i <= 45; i++) {
        char p[32];
        sprintf(p, "ln/chain%d", i);
        unlink(p);
    }
    rmdir("ln/sub");
    rmdir("ln");
}

int main(void) {
    cleanup();
    mkdir("ln", 0755);
    mkdir("ln/sub", 0755);
    int fd = open("ln/file", O_CREAT | O_WRONLY, 0644);
    write(fd, "data", 4);
    close(fd);

    printf("symlink %s\n", TRY(symlink("file", "ln/sym")));
    printf("symlink exists %s\n", TRY(symlink("file", "ln/sym")));
    printf("symlink empty target %s\n", TRY(symlink("", "ln/empty")));
    rl("ln/sym");
    rl("ln/file");
    rl("ln/none");
    struct stat a, b;
    lstat("ln/sym", &a);
    stat("ln/sym", &b);
    printf("lstat %s size %lld, stat %s size %lld\n", kind(a.st_mode), (long long)a.st_size,
           kind(b.st_mode), (long long)b.st_size);

    printf("link %s\n", TRY(link("ln/file", "ln/hard")));
    printf("link exists %s\n", TRY(link("ln/file", "ln/hard")));
    printf("link dir %s\n", TRY(link("ln/sub", "ln/subhard")));
    stat("ln/file", &a);
    stat("ln/hard", &b);
    printf("nlink %u %u same inode %d\n", (unsigned)a.st_nlink, (unsigned)b.st_nlink,
           a.st_ino == b.st_ino && a.st_dev == b.st_dev);
    fd = open("ln/hard", O_WRONLY | O_APPEND);
    write(fd, "+more", 5);
    close(fd);
    char buf[64] = {0};
    fd = open("ln/file", O_RDONLY);
    read(fd, buf, sizeof buf - 1);
    close(fd);
    printf("through the other name [%s]\n", buf);
    unlink("ln/file");
    stat("ln/hard", &b);
    printf("after unlink nlink %u size %lld\n", (unsigned)b.st_nlink, (long long)b.st_size);
    printf("dangling stat %s\n", TRY(stat("ln/sym", &a)));
    printf("dangling lstat %s\n", TRY(lstat("ln/sym", &a)));

    symlink("target", "ln/dsym");
    fd = open("ln/dsym", O_CREAT | O_WRONLY, 0644);
    printf("create through dangling symlink %s\n", fd >= 0 ? "OK" : en(errno));
    close(fd);
    printf("target exists %s\n", TRY(access("ln/target", F_OK)));
    printf("O_CREAT|O_EXCL on symlink %s\n", TRY(open("ln/dsym", O_CREAT | O_EXCL | O_WRONLY, 0644)));
    printf("O_NOFOLLOW %s\n", TRY(open("ln/dsym", O_RDONLY | O_NOFOLLOW)));

    symlink("loop2", "ln/loop1");
    symlink("loop1", "ln/loop2");
    symlink("self/x", "ln/self");
    printf("loop %s\n", TRY(open("ln/loop1", O_RDONLY)));
    printf("self %s\n", TRY(stat("ln/self", &a)));
    printf("lstat loop %s\n", TRY(lstat("ln/loop1", &a)));

    /* 40 links are followed, the 41st is ELOOP. */
    symlink("hard", "ln/chain0");
    for (int i = 1; i <= 41; i++) {
        char from[32], to[32];
        sprintf(from, "chain%d", i - 1);
        sprintf(to, "ln/chain%d", i);
        symlink(from, to);
    }
    printf("chain of 40 %s\n", TRY(stat("ln/chain39", &a)));
    printf("chain of 41 %s\n", TRY(stat("ln/chain40", &a)));
    printf("chain of 42 %s\n", TRY(stat("ln/chain41", &a)));

    printf("file as dir %s\n", TRY(stat("ln/hard/x", &a)));
    printf("file with slash %s\n", TRY(stat("ln/hard/", &a)));
    printf("symlink to file with slash %s\n", TRY(stat("ln/chain0/", &a)));
    symlink("sub", "ln/dirlink");
    printf("symlink to dir with slash %s\n", TRY(lstat("ln/dirlink/", &a)));
    printf("  is %s\n", kind(a.st_mode));
    printf("dotdot through symlink %s\n", TRY(stat("ln/dirlink/../hard", &a)));
    fd = open("ln/sub/inner", O_CREAT | O_WRONLY, 0644);
    close(fd);
    printf("via dir symlink %s\n", TRY(access("ln/dirlink/inner", F_OK)));

    char name[300];
    memset(name, 'n', sizeof name);
    memcpy(name, "ln/", 3);
    name[3 + 256] = 0;
    printf("long name %s\n", TRY(open(name, O_RDONLY)));
    name[3 + 255] = 0;
    printf("255 name %s\n", TRY(open(name, O_RDONLY)));
    static char longpath[PATH_MAX + 10];
    memset(longpath, 'a', sizeof longpath - 1);
    for (int i = 1; i < PATH_MAX; i += 2)
        longpath[i] = '/';
    longpath[PATH_MAX + 5] = 0;
    printf("long path %s\n", TRY(open(longpath, O_RDONLY)));

    printf("unlink symlink %s\n", TRY(unlink("ln/dirlink")));
    printf("sub still there %s\n", TRY(access("ln/sub/inner", F_OK)));
    cleanup();
    printf("cleaned %s\n", TRY(access("ln", F_OK)));
    return 0;
}
