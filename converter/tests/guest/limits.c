/* Kernel limits a guest can run into, one per mode; each prints how far it got, so the
 * memory tests see where the runtime's limits stop it (ENOMEM, EAGAIN or the OOM kill),
 * and the differential test runs small counts that stay under every limit.
 *   zeropages GIB   reserve GIB GiB and read one byte per 2 MiB (page tables, no frames)
 *   malloc COUNT    malloc 1 MiB COUNT times without touching it
 *   maps COUNT      mmap COUNT single pages with gaps between them (no merging)
 *   fork COUNT      fork COUNT children that wait on a pipe, then reap them
 *   threads COUNT   start COUNT threads that wait on a pipe, then join them
 *   nproc LIMIT COUNT   as user 1000 with RLIMIT_NPROC at LIMIT, fork COUNT children
 *   rlimit          print RLIMIT_NPROC */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *errname(int e) {
    switch (e) {
    case EAGAIN:
        return "EAGAIN";
    case ENOMEM:
        return "ENOMEM";
    default:
        return strerror(e);
    }
}

static int zeropages(unsigned long gib) {
    size_t len = gib << 30;
    volatile char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
        printf("mmap %lu GiB: %s\n", gib, errname(errno));
        return 1;
    }
    unsigned long sum = 0, spans = len >> 21;
    for (unsigned long i = 0; i < spans; i++)
        sum += p[i << 21];
    printf("read %lu spans of 2 MiB, sum %lu\n", spans, sum);
    return 0;
}

static int mallocs(unsigned long count) {
    for (unsigned long i = 0; i < count; i++) {
        if (malloc(1 << 20) == NULL) {
            printf("malloc failed after %lu MiB: %s\n", i, errname(errno));
            return 0;
        }
    }
    printf("malloc %lu MiB: ok\n", count);
    return 0;
}

static unsigned long maps_lines(void) {
    FILE *f = fopen("/proc/self/maps", "r");
    if (f == NULL)
        return 0;
    unsigned long n = 0;
    int c;
    while ((c = getc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

/* Each page goes at its own hint with a free page after it, so no two merge and each
 * placement is found at once. */
static int maps(unsigned long count) {
    char *base = (char *)(4UL << 30);
    for (unsigned long i = 0; i < count; i++) {
        char *at = base + i * 8192;
        char *p = mmap(at, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            int e = errno;
            printf("mmap failed after %lu maps: %s; /proc/self/maps has %lu lines\n", i,
                   errname(e), maps_lines());
            return 0;
        }
        if (p != at) {
            printf("mmap %lu: placed at %p, not at the hint %p\n", i, (void *)p, (void *)at);
            return 1;
        }
    }
    printf("%lu maps: ok\n", count);
    return 0;
}

/* Forks up to COUNT children blocked on a pipe; prints why forking stopped; reaps them. */
static int forks(unsigned long count) {
    int fds[2];
    if (pipe(fds) != 0) {
        perror("pipe");
        return 1;
    }
    unsigned long n = 0;
    for (; n < count; n++) {
        pid_t pid = fork();
        if (pid < 0) {
            printf("fork failed after %lu children: %s\n", n, errname(errno));
            break;
        }
        if (pid == 0) {
            char b;
            close(fds[1]);
            _exit(read(fds[0], &b, 1) == 0 ? 0 : 1);
        }
    }
    if (n == count)
        printf("forked %lu children: ok\n", n);
    fflush(stdout);
    close(fds[1]);
    unsigned long reaped = 0, clean = 0;
    int status;
    while (wait(&status) > 0) {
        reaped++;
        clean += WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
    printf("reaped %lu, %lu exited 0\n", reaped, clean);
    return 0;
}

static int gate[2];

static void *waiter(void *arg) {
    char b;
    (void)arg;
    return (void *)(long)read(gate[0], &b, 1);
}

static int threads(unsigned long count) {
    if (pipe(gate) != 0) {
        perror("pipe");
        return 1;
    }
    pthread_t *t = calloc(count, sizeof *t);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 << 10);
    unsigned long n = 0;
    for (; n < count; n++) {
        int e = pthread_create(&t[n], &attr, waiter, NULL);
        if (e != 0) {
            printf("pthread_create failed after %lu threads: %s\n", n, errname(e));
            break;
        }
    }
    if (n == count)
        printf("started %lu threads: ok\n", n);
    close(gate[1]);
    unsigned long joined = 0;
    for (unsigned long i = 0; i < n; i++) {
        void *r;
        joined += pthread_join(t[i], &r) == 0 && r == NULL;
    }
    printf("joined %lu\n", joined);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: limits MODE [N...]\n");
        return 2;
    }
    const char *mode = argv[1];
    unsigned long n = argc > 2 ? strtoul(argv[2], NULL, 10) : 0;
    if (strcmp(mode, "zeropages") == 0)
        return zeropages(n);
    if (strcmp(mode, "malloc") == 0)
        return mallocs(n);
    if (strcmp(mode, "maps") == 0)
        return maps(n);
    if (strcmp(mode, "fork") == 0)
        return forks(n);
    if (strcmp(mode, "threads") == 0)
        return threads(n);
    if (strcmp(mode, "nproc") == 0 && argc > 3) {
        struct rlimit r = {n, n};
        if (setrlimit(RLIMIT_NPROC, &r) != 0 || setresuid(1000, 1000, 1000) != 0) {
            perror("setrlimit/setresuid");
            return 1;
        }
        return forks(strtoul(argv[3], NULL, 10));
    }
    if (strcmp(mode, "rlimit") == 0) {
        struct rlimit r;
        getrlimit(RLIMIT_NPROC, &r);
        printf("RLIMIT_NPROC %llu %llu\n", (unsigned long long)r.rlim_cur,
               (unsigned long long)r.rlim_max);
        return 0;
    }
    fprintf(stderr, "limits: unknown mode %s\n", mode);
    return 2;
}
