/* Benchmark: double-precision arithmetic (mul, add, div, sqrt, fused multiply-add). */
#include <math.h>
#include <stdio.h>

int main(void) {
    double sum = 0.0, x = 0.5;
    const int n = 20000000;
    for (int i = 1; i <= n; i++) {
        double t = (double)i / n;
        sum += 4.0 / (1.0 + t * t);
        x = fma(x, 0.9999999, 1e-7) + sqrt(t) * 1e-9;
    }
    printf("%.12f %.12f\n", sum / n, x);
    return 0;
}
