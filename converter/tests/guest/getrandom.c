/* getrandom and getentropy: the lengths returned (a full buffer, 0 for an
 * empty request, the flags accepted), EINVAL for unknown flags, EFAULT
 * for a bad buffer, getentropy's 256-byte limit, and that two draws differ
 * (the chance of a false failure is 2^-256). Never the bytes themselves. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

int main(void) {
    unsigned char a[64], b[64];
    memset(a, 0, sizeof a);
    memset(b, 0, sizeof b);
    ssize_t ra = getrandom(a, sizeof a, 0);
    ssize_t rb = getrandom(b, sizeof b, GRND_NONBLOCK);
    printf("getrandom 64: %zd, nonblock 64: %zd\n", ra, rb);
    printf("draws differ %d\n", memcmp(a, b, 32) != 0);
    int nonzero = 0;
    for (unsigned i = 0; i < sizeof a; i++)
        nonzero |= a[i];
    printf("not all zero %d\n", nonzero != 0);
    printf("getrandom 0 bytes: %zd\n", getrandom(a, 0, 0));
    printf("GRND_RANDOM 16: %zd\n", getrandom(a, 16, GRND_RANDOM));
    static unsigned char big[100000];
    ssize_t rbig = getrandom(big, sizeof big, 0);
    printf("getrandom 100000: %zd\n", rbig);
    errno = 0;
    ssize_t bad = getrandom(a, 16, 0x4000);
    printf("bad flags: %zd errno EINVAL %d\n", bad, errno == EINVAL);
    errno = 0;
    void *volatile unmapped = (void *)8; /* volatile: hide it from gcc's bounds checks */
    bad = getrandom(unmapped, 16, 0);
    printf("bad buffer: %zd errno EFAULT %d\n", bad, errno == EFAULT);
    printf("getentropy 256: %d\n", getentropy(a, 0) == 0 && getentropy(big, 256) == 0);
    errno = 0;
    int rc = getentropy(big, 257);
    printf("getentropy 257: %d errno EIO %d\n", rc, errno == EIO);
    return 0;
}
