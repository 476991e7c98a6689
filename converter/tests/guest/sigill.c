/* An illegal instruction with no handler installed: the process dies of
 * SIGILL, after the line it flushed. The status a shell reports is
 * 128 + 4. The all-zero word is defined to be illegal in every RISC-V
 * encoding (c.unimp when C is present). */
#include <stdio.h>

int main(void) {
    printf("about to execute an illegal instruction\n");
    fflush(stdout);
    __asm__ volatile(".4byte 0x00000000");
    printf("still alive after the illegal instruction\n");
    return 0;
}
