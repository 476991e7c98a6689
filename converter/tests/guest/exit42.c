/* Returning 42 from main: the status must reach the host unchanged,
 * through glibc's exit and exit_group. */
#include <stdio.h>

int main(void) {
    printf("returning 42 from main\n");
    return 42;
}
