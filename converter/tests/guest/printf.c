/* printf formatting through glibc's vfprintf: integer conversions with
 * every flag, width and precision; floating point in %f/%e/%g/%a including
 * rounding of halfway cases, subnormals, infinities and NaN; long double
 * (IEEE quad on riscv64, all soft-float); %n, %%, %c, %s with precision;
 * snprintf truncation and return values; and strtod/strtol back again. */
#include <float.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* The truncating snprintf calls below are the point of the test. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

int main(void) {
    printf("[%d] [%i] [%u] [%x] [%X] [%o]\n", -42, 42, 42u, 0xbeefu, 0xbeefu, 8u);
    printf("[%5d] [%-5d] [%05d] [%+d] [% d] [%+.3d] [%.0d] [%#x] [%#o] [%#X]\n", 42, 42, 42, 42,
           42, 7, 0, 255u, 8u, 255u);
    printf("[%*d] [%-*d] [%.*d] [%*.*d]\n", 6, 1, 6, 2, 4, 3, 8, 5, -4);
    printf("[%hhd] [%hhu] [%hd] [%hu] [%ld] [%lu] [%lld] [%llu]\n", (signed char)-128,
           (unsigned char)255, (short)-32768, (unsigned short)65535, LONG_MIN, ULONG_MAX, LLONG_MIN,
           ULLONG_MAX);
    printf("[%zd] [%zu] [%td] [%jd] [%ju] [%" PRId64 "] [%" PRIx64 "]\n", (ssize_t)-1, SIZE_MAX,
           (ptrdiff_t)-5, INTMAX_MIN, UINTMAX_MAX, INT64_MIN, UINT64_MAX);
    printf("[%p] [%p]\n", (void *)0, (void *)0x1234abcd);
    printf("[%c] [%5c] [%-3c] [%s] [%.3s] [%8.2s] [%-8s] [%%]\n", 'A', 'b', 'c', "hello", "hello",
           "hello", "hi");

    static const double ds[] = {0.0, -0.0, 1.0, -1.5, 0.1, 2.5, 3.5, 0.125, 1e-5, 123456789.0,
                                1e21, 1e-310, DBL_MAX, DBL_MIN, DBL_TRUE_MIN, M_PI, 1.0 / 3.0,
                                INFINITY, -INFINITY, NAN};
    for (unsigned i = 0; i < sizeof ds / sizeof ds[0]; i++) {
        double d = ds[i];
        printf("[%f] [%.0f] [%.2f] [%e] [%.3E] [%g] [%G] [%.10g] [%#g] [%a] [%.3a] [%A] [%+12.4f] "
               "[%-12.2e|] [%012.3f]\n",
               d, d, d, d, d, d, d, d, d, d, d, d, d, d, d);
    }
    /* Round-half-even in the decimal conversion. */
    printf("[%.0f] [%.0f] [%.0f] [%.1f] [%.1f] [%.2f]\n", 0.5, 1.5, 2.5, 0.25, 0.35, 1.005);
    printf("[%.60f]\n", 0.1);
    printf("[%.17g] [%.17g]\n", 5e-324, 1.7976931348623157e308);

    static const long double lds[] = {1.0L, 0.1L, -2.5L, 1.0L / 3.0L, LDBL_MAX, LDBL_MIN, 1e4000L};
    for (unsigned i = 0; i < sizeof lds / sizeof lds[0]; i++)
        printf("[%Lf] [%.30Le] [%La] [%Lg]\n", lds[i], lds[i], lds[i], lds[i]);
    volatile long double x = 2.0L;
    printf("sqrtl(2) = %.36Lg, 2/3 = %.36Lg, 1e30*1e30 = %Lg\n", sqrtl(x), x / 3.0L,
           1e30L * (x * 5e29L));

    int n1 = 0, n2 = 0;
    printf("abc%ndefgh%n\n", &n1, &n2);
    printf("n1 %d n2 %d\n", n1, n2);

    char buf[16];
    int r = snprintf(buf, sizeof buf, "%s-%d-%s", "truncate", 123456, "me please");
    printf("snprintf returned %d buf '%s'\n", r, buf);
    r = snprintf(NULL, 0, "%.100f", 1.0);
    printf("snprintf(NULL, 0) returned %d\n", r);
    r = snprintf(buf, 1, "xyz");
    printf("snprintf(buf, 1) returned %d buf '%s'\n", r, buf);

    static const char *numbers[] = {"3.14159", "-0", "1e-320", "0x1.8p1", "inf", "-nan", "1e400",
                                    "  42abc", "0.1", "2.2250738585072011e-308"};
    for (unsigned i = 0; i < sizeof numbers / sizeof numbers[0]; i++) {
        char *end;
        double d = strtod(numbers[i], &end);
        printf("strtod(\"%s\") = %a, consumed %td\n", numbers[i], d, end - numbers[i]);
    }
    static const char *ints[] = {"0x7fffffffffffffff", "-9223372036854775809", "0777", "  -12z",
                                 "18446744073709551615"};
    for (unsigned i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        char *end;
        long l = strtol(ints[i], &end, 0);
        unsigned long ul = strtoul(ints[i], NULL, 0);
        printf("strtol(\"%s\") = %ld, consumed %td; strtoul = %lu\n", ints[i], l, end - ints[i], ul);
    }
    printf("atoi %d atol %ld atof %g\n", atoi("-123"), atol("99999999999"), atof("6.02e23"));
    return 0;
}
