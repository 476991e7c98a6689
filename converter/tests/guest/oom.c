/* Guest memory against the runtime's limit (CTR2WASM_MEMORY_LIMIT_MB): mallocs
 * UNTOUCHED MiB and never touches them (memory is lazy, so this must succeed), then
 * touches TOUCH MiB in 1 MiB blocks, by stores or, with "read", by read(2) from
 * /dev/zero (a kernel copy into fresh pages). Under a small limit the runtime kills it
 * with SIGKILL part-way; stdout is flushed as it goes so the test sees how far it got. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: oom TOUCH_MIB UNTOUCHED_MIB [read]\n");
        return 2;
    }
    size_t touch = strtoul(argv[1], NULL, 10);
    size_t untouched = strtoul(argv[2], NULL, 10);
    int by_read = argc > 3 && strcmp(argv[3], "read") == 0;
    char *big = malloc(untouched << 20);
    printf("untouched %zu MiB: %s\n", untouched, big != NULL ? "ok" : "failed");
    fflush(stdout);
    int fd = open("/dev/zero", O_RDONLY);
    if (fd < 0) {
        perror("open /dev/zero");
        return 1;
    }
    unsigned long sum = 0;
    for (size_t i = 0; i < touch; i++) {
        char *p = malloc(1 << 20);
        if (p == NULL) {
            printf("malloc failed after %zu MiB\n", i);
            return 1;
        }
        if (by_read) {
            for (size_t done = 0; done < (1 << 20);) {
                ssize_t n = read(fd, p + done, (1 << 20) - done);
                if (n <= 0) {
                    perror("read /dev/zero");
                    return 1;
                }
                done += (size_t)n;
            }
        } else {
            for (size_t j = 0; j < (1 << 20); j += 4096)
                p[j] = (char)(i + 1);
        }
        sum += (unsigned char)p[4096];
    }
    printf("touched %zu MiB by %s, sum %lu\n", touch, by_read ? "read" : "stores", sum);
    return 0;
}
