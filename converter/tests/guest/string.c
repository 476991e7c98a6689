/* glibc string and memory functions on unaligned buffers: memcpy, memmove
 * (both overlap directions), memset, memcmp, strlen, strcmp, strncmp,
 * strchr, strrchr, memchr, strstr, strcpy and strncpy, for every source
 * and destination offset 0..15 and a range of lengths, so the word-at-a-time
 * paths meet every alignment and tail. Prints a checksum per function and
 * the first mismatch against a byte-by-byte reference, if any. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define BUF 512
static unsigned char src[BUF + 64] __attribute__((aligned(64)));
static unsigned char dst[BUF + 64] __attribute__((aligned(64)));
static unsigned char ref[BUF + 64] __attribute__((aligned(64)));

static const size_t lengths[] = {0,  1,  2,  3,  7,  8,   9,   15,  16,  17,
                                 31, 32, 33, 63, 64, 65, 100, 255, 256, 300};
#define NLEN (sizeof lengths / sizeof lengths[0])

static uint64_t hash;
static unsigned mismatches;
static void mix(uint64_t v) { hash = (hash ^ v) * 1099511628211u; }

static void fill(void) {
    for (unsigned i = 0; i < sizeof src; i++)
        src[i] = (unsigned char)(i * 131 + 7) | 1; /* never NUL */
    memset(dst, 0xee, sizeof dst);
    memset(ref, 0xee, sizeof ref);
}

static void check(const char *what, unsigned so, unsigned dof, size_t n) {
    if (memcmp(dst, ref, sizeof dst) != 0 && mismatches++ < 5)
        printf("MISMATCH %s src+%u dst+%u len %zu\n", what, so, dof, n);
    for (unsigned i = 0; i < sizeof dst; i++)
        mix(dst[i]);
}

static void copies(void) {
    hash = 1469598103934665603u;
    for (unsigned so = 0; so < 16; so++)
        for (unsigned dof = 0; dof < 16; dof++)
            for (unsigned l = 0; l < NLEN; l++) {
                size_t n = lengths[l];
                fill();
                memcpy(dst + dof, src + so, n);
                for (size_t i = 0; i < n; i++)
                    ref[dof + i] = src[so + i];
                check("memcpy", so, dof, n);
                fill();
                memset(dst + dof, (int)(so * 17), n);
                for (size_t i = 0; i < n; i++)
                    ref[dof + i] = (unsigned char)(so * 17);
                check("memset", so, dof, n);
            }
    printf("memcpy+memset checksum %016" PRIx64 "\n", hash);

    hash = 1469598103934665603u;
    for (unsigned so = 0; so < 16; so++)
        for (unsigned dof = 0; dof < 16; dof++)
            for (unsigned l = 0; l < NLEN; l++) {
                size_t n = lengths[l];
                /* Overlapping move inside one buffer, forwards and back. */
                for (unsigned i = 0; i < sizeof dst; i++)
                    dst[i] = ref[i] = (unsigned char)(i * 13);
                memmove(dst + dof + 40, dst + so, n);
                for (size_t i = n; i-- > 0;)
                    ref[dof + 40 + i] = ref[so + i];
                check("memmove up", so, dof, n);
                for (unsigned i = 0; i < sizeof dst; i++)
                    dst[i] = ref[i] = (unsigned char)(i * 13);
                memmove(dst + dof, dst + so + 40, n);
                for (size_t i = 0; i < n; i++)
                    ref[dof + i] = ref[so + 40 + i];
                check("memmove down", so, dof, n);
            }
    printf("memmove checksum %016" PRIx64 "\n", hash);
}

static void searches(void) {
    hash = 1469598103934665603u;
    for (unsigned off = 0; off < 16; off++)
        for (unsigned l = 0; l < NLEN; l++) {
            size_t n = lengths[l];
            fill();
            unsigned char *s = src + off;
            s[n] = '\0';
            size_t len = strlen((char *)s);
            if (len != n && mismatches++ < 5)
                printf("MISMATCH strlen off %u: %zu != %zu\n", off, len, n);
            mix(len);
            /* Search for a byte at the end, the middle and not present. */
            int targets[] = {n ? s[n - 1] : 'x', n ? s[n / 2] : 'y', 0x02, '\0'};
            for (int t = 0; t < 4; t++) {
                char *c = strchr((char *)s, targets[t]);
                char *rc = strrchr((char *)s, targets[t]);
                unsigned char *m = memchr(s, targets[t], n);
                mix(c ? (uint64_t)(c - (char *)s) : 9999);
                mix(rc ? (uint64_t)(rc - (char *)s) : 9999);
                mix(m ? (uint64_t)(m - s) : 9999);
            }
            /* strstr: a needle taken from the tail, and one absent. */
            if (n >= 4) {
                char needle[8];
                memcpy(needle, s + n - 4, 4);
                needle[4] = '\0';
                char *hit = strstr((char *)s, needle);
                mix(hit ? (uint64_t)(hit - (char *)s) : 9999);
                mix(strstr((char *)s, "\x02\x04") == NULL);
            }
        }
    printf("strlen/strchr/strrchr/memchr/strstr checksum %016" PRIx64 "\n", hash);
}

static void compares(void) {
    hash = 1469598103934665603u;
    static char a[BUF + 32], b[BUF + 32];
    for (unsigned oa = 0; oa < 16; oa++)
        for (unsigned ob = 0; ob < 16; ob++)
            for (unsigned l = 0; l < NLEN; l++) {
                size_t n = lengths[l];
                char *x = a + oa, *y = b + ob;
                for (size_t i = 0; i < n; i++)
                    x[i] = y[i] = (char)('a' + (i % 26));
                x[n] = y[n] = '\0';
                int eq = strcmp(x, y) == 0 && memcmp(x, y, n) == 0 && strncmp(x, y, n + 5) == 0;
                mix(eq);
                if (n > 0) {
                    /* Differ at the last byte, with the high bit set so a
                     * signed comparison would get the sign wrong. */
                    y[n - 1] = (char)0xe1;
                    int s1 = strcmp(x, y), s2 = memcmp(x, y, n), s3 = strncmp(x, y, n);
                    int s4 = strncmp(x, y, n - 1);
                    mix((s1 < 0) | (s2 < 0) << 1 | (s3 < 0) << 2 | (s4 == 0) << 3);
                }
            }
    printf("strcmp/memcmp/strncmp checksum %016" PRIx64 "\n", hash);

    char buf[64];
    memset(buf, 'z', sizeof buf);
    strcpy(buf + 3, "hello");
    strncpy(buf + 20, "abc", 8); /* pads with NULs */
    volatile size_t cat_len = 6;
    strncat(buf + 3, " world!!", cat_len);
    for (unsigned i = 0; i < 32; i++)
        printf("%02x", (unsigned char)buf[i]);
    printf("\n");
    printf("strspn %zu strcspn %zu strpbrk %s\n", strspn("aabbcde", "ab"), strcspn("xyz=1", "=;"),
           strpbrk("key=value;x", ";="));
    char tok[] = "a,b,,c";
    char *save = NULL;
    for (char *t = strtok_r(tok, ",", &save); t; t = strtok_r(NULL, ",", &save))
        printf("token '%s'\n", t);
}

int main(void) {
    copies();
    searches();
    compares();
    printf("mismatches %u\n", mismatches);
    return 0;
}
