/* Regular files in a scratch directory: create, write, read, lseek, pread,
 * pwrite, truncate, O_APPEND, O_EXCL, O_TRUNC, fstat sizes, unlink. Paths are
 * relative, so the program runs the same in any working directory. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *en(int e) {
    switch (e) {
    case 0: return "OK";
    case ENOENT: return "ENOENT";
    case EEXIST: return "EEXIST";
    case EISDIR: return "EISDIR";
    case ENOTDIR: return "ENOTDIR";
    case EBADF: return "EBADF";
    case EINVAL: return "EINVAL";
    case ESPIPE: return "ESPIPE";
    case ENXIO: return "ENXIO";
    default: return "other";
    }
}

#define TRY(expr) ((expr) < 0 ? en(errno) : "OK")

static void show(const char *path) {
    char buf[128];
    int fd = open(path, O_RDONLY);
    ssize_t n = read(fd, buf, sizeof buf);
    struct stat st;
    fstat(fd, &st);
    printf("%s: size=%lld read=%zd [", path, (long long)st.st_size, n);
    for (ssize_t i = 0; i < n; i++)
        putchar(buf[i] ? buf[i] : '0');
    printf("]\n");
    close(fd);
}

int main(void) {
    umask(022);
    unlink("fb_dir/f");
    unlink("fb_dir/g");
    rmdir("fb_dir");
    printf("mkdir %s\n", TRY(mkdir("fb_dir", 0755)));
    int fd = open("fb_dir/f", O_CREAT | O_RDWR | O_EXCL, 0666);
    printf("create %s\n", fd >= 0 ? "OK" : en(errno));
    printf("create again %s\n", TRY(open("fb_dir/f", O_CREAT | O_RDWR | O_EXCL, 0666)));
    struct stat st;
    fstat(fd, &st);
    printf("mode %o nlink %u regular %d\n", st.st_mode & 0777, (unsigned)st.st_nlink,
           S_ISREG(st.st_mode));
    printf("write %zd\n", write(fd, "hello, world", 12));
    printf("lseek cur %lld\n", (long long)lseek(fd, 0, SEEK_CUR));
    printf("lseek set %lld\n", (long long)lseek(fd, 7, SEEK_SET));
    char buf[64] = {0};
    printf("read %zd [%s]\n", read(fd, buf, sizeof buf - 1), buf);
    printf("read at eof %zd\n", read(fd, buf, sizeof buf));
    memset(buf, 0, sizeof buf);
    printf("pread %zd [%s]\n", pread(fd, buf, 5, 0), buf);
    printf("pwrite %zd\n", pwrite(fd, "HELLO", 5, 0));
    printf("offset after pwrite %lld\n", (long long)lseek(fd, 0, SEEK_CUR));
    printf("lseek end %lld\n", (long long)lseek(fd, 0, SEEK_END));
    printf("lseek past end %lld\n", (long long)lseek(fd, 4, SEEK_END));
    printf("write hole %zd\n", write(fd, "!", 1));
    show("fb_dir/f");
    printf("lseek negative %s\n", TRY(lseek(fd, -100, SEEK_SET)));
    printf("ftruncate %s\n", TRY(ftruncate(fd, 5)));
    show("fb_dir/f");
    printf("ftruncate grow %s\n", TRY(ftruncate(fd, 8)));
    show("fb_dir/f");
    close(fd);

    fd = open("fb_dir/f", O_WRONLY | O_APPEND);
    printf("append %zd\n", write(fd, "++", 2));
    printf("pwrite with O_APPEND %zd\n", pwrite(fd, "@", 1, 0));
    printf("read on write-only %s\n", TRY(read(fd, buf, 1)));
    close(fd);
    show("fb_dir/f");

    fd = open("fb_dir/f", O_RDONLY);
    printf("write on read-only %s\n", TRY(write(fd, "x", 1)));
    printf("ftruncate on read-only %s\n", TRY(ftruncate(fd, 0)));
    close(fd);

    fd = open("fb_dir/f", O_WRONLY | O_TRUNC);
    printf("truncated, write %zd\n", write(fd, "new", 3));
    close(fd);
    show("fb_dir/f");
    printf("truncate path %s\n", TRY(truncate("fb_dir/f", 1)));
    show("fb_dir/f");

    printf("open missing %s\n", TRY(open("fb_dir/none", O_RDONLY)));
    printf("open in missing dir %s\n", TRY(open("fb_dir/none/x", O_CREAT | O_WRONLY, 0644)));
    printf("open file as dir %s\n", TRY(open("fb_dir/f/", O_RDONLY)));
    printf("create with slash %s\n", TRY(open("fb_dir/g/", O_CREAT | O_WRONLY, 0644)));
    printf("open dir for write %s\n", TRY(open("fb_dir", O_WRONLY)));
    printf("O_DIRECTORY on file %s\n", TRY(open("fb_dir/f", O_RDONLY | O_DIRECTORY)));
    fd = open("fb_dir", O_RDONLY | O_DIRECTORY);
    printf("read dir %s\n", TRY(read(fd, buf, 1)));
    close(fd);

    fd = open("fb_dir/g", O_CREAT | O_RDWR, 0640);
    static char big[100000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)(i * 7);
    printf("big write %zd\n", write(fd, big, sizeof big));
    static char back[100000];
    printf("big pread %zd\n", pread(fd, back, sizeof back, 0));
    printf("same %d\n", memcmp(big, back, sizeof big) == 0);
    fstat(fd, &st);
    printf("mode %o size %lld\n", st.st_mode & 0777, (long long)st.st_size);
    close(fd);
    printf("close twice %s\n", TRY(close(fd)));

    printf("unlink %s\n", TRY(unlink("fb_dir/f")));
    printf("unlink again %s\n", TRY(unlink("fb_dir/f")));
    printf("unlink g %s\n", TRY(unlink("fb_dir/g")));
    printf("rmdir %s\n", TRY(rmdir("fb_dir")));
    return 0;
}
