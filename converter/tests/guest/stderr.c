/* stdout and stderr stay separate streams: stderr is unbuffered, stdout is
 * buffered when it is a pipe, and raw write(2) calls interleave with both.
 * The harness compares each stream on its own. perror and strerror print
 * glibc's messages. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void) {
    printf("stdout 1\n");
    fprintf(stderr, "stderr 1\n");
    write(1, "stdout raw\n", 11);
    write(2, "stderr raw\n", 11);
    printf("stdout 2 without newline");
    fprintf(stderr, "stderr 2 without newline");
    fflush(stdout);
    putc('\n', stdout);
    fputc('\n', stderr);
    errno = 0;
    if (close(12345) != 0)
        perror("close(12345)");
    fprintf(stderr, "strerror(ENOENT) = %s\n", strerror(ENOENT));
    fprintf(stderr, "strerror(EAGAIN) = %s\n", strerror(EAGAIN));
    for (int i = 0; i < 50; i++)
        fprintf(i % 2 ? stderr : stdout, "line %d to %s\n", i, i % 2 ? "stderr" : "stdout");
    /* A write to fd 2 after stdout was closed still arrives. */
    fclose(stdout);
    fprintf(stderr, "stderr after fclose(stdout)\n");
    return 0;
}
