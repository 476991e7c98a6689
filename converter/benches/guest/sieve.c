/* Benchmark: sieve of Eratosthenes over 8 million numbers, three times (byte stores, loops). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
    const int n = 8000000;
    char *composite = malloc(n + 1);
    long count = 0;
    for (int round = 0; round < 3; round++) {
        memset(composite, 0, n + 1);
        count = 0;
        for (long i = 2; i <= n; i++) {
            if (!composite[i]) {
                count++;
                for (long j = i * i; j <= n; j += i)
                    composite[j] = 1;
            }
        }
    }
    printf("primes below %d: %ld\n", n, count);
    free(composite);
    return 0;
}
