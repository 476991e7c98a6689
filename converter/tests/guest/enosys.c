/* Unknown system calls return -ENOSYS instead of killing the process:
 * numbers past the end of the riscv64 table, through glibc's syscall()
 * (errno set, -1 returned) and through a raw ecall (the negative errno in
 * a0). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static long raw_syscall(long nr) {
    register long a7 __asm__("a7") = nr;
    register long a0 __asm__("a0") = 0;
    __asm__ volatile("ecall" : "+r"(a0) : "r"(a7) : "memory");
    return a0;
}

int main(void) {
    static const long numbers[] = {4000, 999, 100000};
    for (unsigned i = 0; i < sizeof numbers / sizeof numbers[0]; i++) {
        errno = 0;
        long rc = syscall(numbers[i], 1, 2, 3);
        int e = errno;
        printf("syscall(%ld) = %ld errno %d (%s) ENOSYS %d\n", numbers[i], rc, e, strerror(e),
               e == ENOSYS);
    }
    printf("raw ecall 4000 -> %ld (-ENOSYS is %d)\n", raw_syscall(4000), -ENOSYS);
    printf("still running\n");
    return 0;
}
