/* Every file operation that names a path, through a directory `d` that the
 * host may swap for a symlink to a directory outside the mount while this
 * runs (tests/all/mounts.rs does, from a second thread): open+read, open for
 * writing an existing file, O_CREAT+write, stat, lstat, mkdir/rmdir, rename,
 * link, symlink, readlink, unlink, utimensat, chmod, truncate and a listing.
 *
 * The two directories hold the same names with different contents: inside,
 * `f` is "inside\n" and `lnk` points to "inside-target"; outside, `f` is
 * "SECRET-OUTSIDE\n" and `lnk` points to "SECRET-TARGET-OUTSIDE" (other
 * sizes, so that a stat tells them apart).
 * Whatever this program reads, stats or lists that comes from outside is
 * counted as `outside`; the host checks afterwards that nothing outside was
 * changed, created or removed.
 *
 *   mount_race DIR SECONDS   loops in DIR for SECONDS, then prints counts
 *   mount_race               one pass in a fresh directory under /tmp that
 *                            nobody swaps, printing each result (the
 *                            differential test against qemu-riscv64) */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char INSIDE[] = "inside\n";
static const char SECRET[] = "SECRET-OUTSIDE\n";
static const char LINK[] = "inside-target";

/* What a pass saw. */
struct counts {
    long passes, inside, outside, failed;
};

static int verbose;

/* Records one operation's outcome: 1 saw the inside, 0 failed, -1 outside. */
static void note(struct counts *c, const char *what, int seen) {
    if (seen > 0)
        c->inside++;
    else if (seen < 0)
        c->outside++;
    else
        c->failed++;
    if (verbose)
        printf("%s: %s\n", what,
               seen > 0 ? "inside" : seen < 0 ? "OUTSIDE" : strerror(errno));
}

/* 1 if `n` bytes in `buf` are the inside file, -1 if the secret, 0 else. */
static int judge(const char *buf, ssize_t n) {
    if (n == (ssize_t)strlen(INSIDE) && !memcmp(buf, INSIDE, n))
        return 1;
    if (n > 0 && !memcmp(buf, "SECRET", n < 6 ? n : 6))
        return -1;
    errno = EIO;
    return 0;
}

static int ok(int rc) { return rc < 0 ? 0 : 1; }

static void pass(struct counts *c) {
    char buf[64];
    struct stat st;
    int fd;
    ssize_t n;

    fd = open("d/f", O_RDONLY);
    n = fd < 0 ? -1 : read(fd, buf, sizeof buf);
    note(c, "open+read d/f", n < 0 ? 0 : judge(buf, n));
    if (fd >= 0)
        close(fd);

    /* Rewrites the inside file with its own contents. */
    fd = open("d/f", O_WRONLY);
    n = fd < 0 ? -1 : write(fd, INSIDE, strlen(INSIDE));
    note(c, "open+write d/f", ok(n));
    if (fd >= 0)
        close(fd);

    note(c, "stat d/f", stat("d/f", &st) < 0 ? 0
                        : st.st_size == (off_t)strlen(SECRET) ? -1 : 1);
    note(c, "lstat d/lnk", lstat("d/lnk", &st) < 0 ? 0
                           : st.st_size == (off_t)strlen(LINK) ? 1 : -1);

    n = readlink("d/lnk", buf, sizeof buf - 1);
    note(c, "readlink d/lnk",
         n < 0 ? 0 : !memcmp(buf, "SECRET", 6) ? -1 : 1);

    fd = open("d/new", O_WRONLY | O_CREAT | O_EXCL, 0644);
    n = fd < 0 ? -1 : write(fd, "guest\n", 6);
    note(c, "create+write d/new", ok(n));
    if (fd >= 0)
        close(fd);
    note(c, "rename d/new d/moved", ok(rename("d/new", "d/moved")));
    note(c, "link d/moved d/hard", ok(link("d/moved", "d/hard")));
    note(c, "unlink d/hard", ok(unlink("d/hard")));
    note(c, "unlink d/moved", ok(unlink("d/moved")));

    note(c, "mkdir d/sub", ok(mkdir("d/sub", 0755)));
    note(c, "rmdir d/sub", ok(rmdir("d/sub")));
    note(c, "symlink x d/sl", ok(symlink("x", "d/sl")));
    note(c, "unlink d/sl", ok(unlink("d/sl")));

    /* `victim` exists on both sides: removed and made again. */
    note(c, "unlink d/victim", ok(unlink("d/victim")));
    fd = open("d/victim", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    note(c, "create d/victim", ok(fd));
    if (fd >= 0)
        close(fd);

    struct timespec epoch[2] = {{0, 0}, {0, 0}};
    note(c, "utimensat d/f", ok(utimensat(AT_FDCWD, "d/f", epoch, 0)));
    note(c, "chmod d/f", ok(chmod("d/f", 0600)));
    note(c, "truncate d/f", ok(truncate("d/f", strlen(INSIDE))));

    /* The outside directory holds `only-outside`; the inside one does not. */
    DIR *dir = opendir("d");
    int seen = dir ? 1 : 0;
    struct dirent *e;
    while (dir && (e = readdir(dir)))
        if (!strcmp(e->d_name, "only-outside"))
            seen = -1;
    if (dir)
        closedir(dir);
    note(c, "list d", seen);
    c->passes++;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static int put(const char *path, const char *data) {
    FILE *f = fopen(path, "w");
    if (!f || fputs(data, f) < 0 || fclose(f))
        return -1;
    return 0;
}

int main(int argc, char **argv) {
    struct counts c = {0, 0, 0, 0};
    if (argc == 1) {
        /* One pass where nothing is swapped: every operation sees the inside. */
        char dir[] = "/tmp/mount_race.XXXXXX";
        verbose = 1;
        if (!mkdtemp(dir) || chdir(dir) < 0 || mkdir("d", 0755) < 0 ||
            put("d/f", INSIDE) < 0 || put("d/victim", "") < 0 ||
            symlink(LINK, "d/lnk") < 0) {
            perror("setup");
            return 1;
        }
        pass(&c);
        unlink("d/f");
        unlink("d/victim");
        unlink("d/lnk");
        rmdir("d");
        if (chdir("/") < 0 || rmdir(dir) < 0)
            perror("cleanup");
        printf("inside %ld outside %ld failed %ld\n", c.inside, c.outside,
               c.failed);
        return 0;
    }
    if (argc != 3 || chdir(argv[1]) < 0) {
        fprintf(stderr, "usage: mount_race [DIR SECONDS]\n");
        return 2;
    }
    double end = now() + atof(argv[2]);
    while (now() < end)
        pass(&c);
    printf("passes %ld inside %ld outside %ld failed %ld\n", c.passes,
           c.inside, c.outside, c.failed);
    return 0;
}
