/* A riscv64 guest program: prints its arguments and environment, then exits with 3. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    printf("hello from riscv64, %d argument(s):", argc - 1);
    for (int i = 1; i < argc; i++)
        printf(" %s", argv[i]);
    printf("\nGREETING=%s\n", getenv("GREETING") ? getenv("GREETING") : "(unset)");
    fprintf(stderr, "this line goes to stderr\n");
    return 3;
}
