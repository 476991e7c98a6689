/* A load from an unmapped address with no handler installed: the process
 * dies of SIGSEGV (status 128 + 11) after the line it flushed, and
 * anything still buffered in stdio is lost, as on Linux. The address is a
 * page we mapped and unmapped, so it is certainly unmapped. */
#include <stdio.h>
#include <sys/mman.h>

int main(void) {
    volatile int *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    *p = 7;
    munmap((void *)p, 4096);
    printf("about to read an unmapped page\n");
    fflush(stdout);
    printf("this line is still buffered and is lost\n");
    int v = *p;
    printf("still alive, read %d\n", v);
    return 0;
}
