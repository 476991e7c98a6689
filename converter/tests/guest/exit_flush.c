/* exit(3) with output still in stdio buffers: stdout to a pipe is fully
 * buffered, so nothing is written until exit flushes it; atexit handlers
 * run in reverse order of registration and may still print; the last line
 * has no newline. */
#include <stdio.h>
#include <stdlib.h>

static void first_registered(void) { printf("atexit: registered first, runs last\n"); }
static void second_registered(void) { printf("atexit: registered second, runs first\n"); }

int main(void) {
    atexit(first_registered);
    atexit(second_registered);
    for (int i = 0; i < 300; i++)
        printf("buffered line %d of 300, padded to make the buffer fill more than once\n", i);
    printf("no trailing newline, then exit(3)");
    exit(3);
}
