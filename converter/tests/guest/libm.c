/* glibc libm on a spread of inputs, float and double, printed with %.17g
 * (or %.9g) and %a so a last-bit difference shows. libm is ordinary guest
 * code, so this checks the FP instructions it is built from (fused
 * multiply-adds, conversions, classification, the rounding of each step)
 * and its errno handling on domain and range errors. */
#include <errno.h>
#include <math.h>

#include "guest.h"

static const double inputs[] = {
    0.0, -0.0, 1e-310, 1e-300, 1e-8, 0.1, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 3.0,
    3.141592653589793, 10.0, 100.0, 709.78, 710.0, 1e22, 1e300, -0.5, -1.0, -2.5,
    -100.0, INFINITY, -INFINITY, NAN,
};
#define NINPUTS (sizeof inputs / sizeof inputs[0])

static void show_d(const char *name, double x, double r) {
    printf("%s(%.17g) = %.17g %a\n", name, x, r, r);
}
static void show_d2(const char *name, double x, double y, double r) {
    printf("%s(%.17g, %.17g) = %.17g %a\n", name, x, y, r, r);
}
static void show_f(const char *name, float x, float r) {
    printf("%s(%.9g) = %.9g %a\n", name, (double)x, (double)r, (double)r);
}
static void show_f2(const char *name, float x, float y, float r) {
    printf("%s(%.9g, %.9g) = %.9g %a\n", name, (double)x, (double)y, (double)r, (double)r);
}

int main(void) {
    for (unsigned i = 0; i < NINPUTS; i++) {
        volatile double x = inputs[i];
        int sign;
        show_d("sin", x, sin(x));
        show_d("cos", x, cos(x));
        show_d("tan", x, tan(x));
        show_d("exp", x, exp(x));
        show_d("expm1", x, expm1(x));
        show_d("log", x, log(x));
        show_d("log1p", x, log1p(x));
        show_d("log2", x, log2(x));
        show_d("log10", x, log10(x));
        show_d("sqrt", x, sqrt(x));
        show_d("cbrt", x, cbrt(x));
        show_d("asin", x, asin(x));
        show_d("atan", x, atan(x));
        show_d("sinh", x, sinh(x));
        show_d("tanh", x, tanh(x));
        show_d("erf", x, erf(x));
        show_d("tgamma", x, tgamma(x));
        double lg = lgamma_r(x, &sign);
        printf("lgamma_r(%.17g) = %.17g %a sign %d\n", x, lg, lg, sign);
        show_d("floor", x, floor(x));
        show_d("ceil", x, ceil(x));
        show_d("round", x, round(x));
        show_d("trunc", x, trunc(x));
        int e;
        double m = frexp(x, &e);
        printf("frexp(%.17g) = %a %d\n", x, m, isfinite(x) ? e : 0);
        double ip, fp = modf(x, &ip);
        printf("modf(%.17g) = %a %a\n", x, fp, ip);
    }
    static const double pairs[][2] = {
        {2.0, 10.0}, {2.0, 0.5}, {-8.0, 1.0 / 3.0}, {-8.0, 3.0}, {10.0, 308.0}, {10.0, 309.0},
        {0.0, -1.0}, {-0.0, -3.0}, {1.0, NAN}, {NAN, 0.0}, {1.5, 1e300}, {5.5, 1.75},
        {-5.5, 1.75}, {1e300, 3.0}, {3.0, 0.0}, {INFINITY, 2.0}, {0.0, 0.0}, {-1.0, -0.0},
    };
    for (unsigned i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        volatile double x = pairs[i][0], y = pairs[i][1];
        show_d2("pow", x, y, pow(x, y));
        show_d2("atan2", x, y, atan2(x, y));
        show_d2("fmod", x, y, fmod(x, y));
        show_d2("remainder", x, y, remainder(x, y));
        show_d2("hypot", x, y, hypot(x, y));
        show_d2("fdim", x, y, fdim(x, y));
        show_d2("nextafter", x, y, nextafter(x, y));
        show_d2("ldexp", x, y, ldexp(x, isfinite(y) ? (int)fmax(fmin(y, 2000), -2000) : 0));
        int q;
        double r = remquo(x, y, &q);
        printf("remquo(%.17g, %.17g) = %a %d\n", x, y, r, isnan(r) ? 0 : q & 7);
        printf("fma(%.17g, %.17g, 1) = %a\n", x, y, fma(x, y, 1.0));
    }
    static const float finputs[] = {0.0f, -0.0f, 1e-40f, 1e-7f, 0.1f, 0.5f, 1.0f, 2.0f, 3.0f,
                                    3.14159265f, 10.0f, 88.7f, 89.0f, 1e30f, -0.5f, -2.5f,
                                    INFINITY, NAN};
    for (unsigned i = 0; i < sizeof finputs / sizeof finputs[0]; i++) {
        volatile float x = finputs[i];
        show_f("sinf", x, sinf(x));
        show_f("cosf", x, cosf(x));
        show_f("expf", x, expf(x));
        show_f("logf", x, logf(x));
        show_f("sqrtf", x, sqrtf(x));
        show_f("cbrtf", x, cbrtf(x));
        show_f("atanf", x, atanf(x));
        show_f("lgammaf", x, lgammaf(x));
        show_f2("powf", x, 2.5f, powf(x, 2.5f));
        show_f2("atan2f", x, -1.0f, atan2f(x, -1.0f));
        show_f2("fmodf", x, 0.75f, fmodf(x, 0.75f));
        show_f2("remainderf", x, 0.75f, remainderf(x, 0.75f));
        printf("fmaf(%.9g) = %a\n", (double)x, (double)fmaf(x, x, -1.0f));
    }
    /* errno: EDOM for domain errors, ERANGE for overflow. */
    volatile double neg = -1.0, big = 1000.0, zero = 0.0;
    errno = 0;
    volatile double r = log(neg);
    printf("log(-1) nan %d errno EDOM %d\n", isnan(r), errno == EDOM);
    errno = 0;
    r = exp(big);
    printf("exp(1000) inf %d errno ERANGE %d\n", isinf(r), errno == ERANGE);
    errno = 0;
    r = log(zero);
    printf("log(0) -inf %d errno ERANGE %d\n", isinf(r) && r < 0, errno == ERANGE);
    errno = 0;
    r = sqrt(neg);
    printf("sqrt(-1) nan %d errno EDOM %d\n", isnan(r), errno == EDOM);
    return 0;
}
