/* Benchmark: naive recursive Fibonacci (calls, returns, stack traffic). */
#include <stdio.h>

static long fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

int main(void) {
    volatile int n = 35;
    printf("fib(%d) = %ld\n", n, fib(n));
    return 0;
}
