/* The initial process state the loader builds: argc, every argv string
 * (including an empty one and one with spaces), the environment exactly as
 * passed (nothing added), getenv of set, empty and missing variables, and
 * setenv/unsetenv/putenv on top of it. The environment is printed sorted:
 * qemu-user hands the guest its environment in reverse order, and the
 * order is not what this program checks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void print_sorted(const char *label, char **env) {
    char *copy[64];
    int n = 0;
    for (char **e = env; *e != NULL && n < 64; e++)
        copy[n++] = *e;
    qsort(copy, (size_t)n, sizeof copy[0], cmp_str);
    for (int i = 0; i < n; i++)
        printf("%s '%s'\n", label, copy[i]);
    printf("%s: %d entries\n", label, n);
}

extern char **environ;

int main(int argc, char **argv, char **envp) {
    printf("argc %d\n", argc);
    for (int i = 0; i < argc; i++)
        printf("argv[%d] = '%s'\n", i, argv[i]);
    printf("argv[argc] is NULL: %d\n", argv[argc] == NULL);
    print_sorted("envp", envp);
    printf("environ == envp %d\n", environ == envp);
    printf("envp follows argv: %d\n", envp == argv + argc + 1);

    const char *names[] = {"GREETING", "EMPTY", "MISSING", "PATH"};
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *v = getenv(names[i]);
        printf("getenv(%s) = %s%s%s\n", names[i], v ? "'" : "", v ? v : "NULL", v ? "'" : "");
    }
    setenv("NEW_VAR", "fresh", 0);
    setenv("GREETING", "replaced", 1);
    setenv("EMPTY", "not replaced", 0);
    unsetenv("PATH");
    static char put[] = "PUT_VAR=via putenv";
    putenv(put);
    print_sorted("after", environ);
    return 0;
}
