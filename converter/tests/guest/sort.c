/* qsort and bsearch: ints with duplicates and extremes (a comparator that
 * must not overflow), strings, structs sorted by two keys, already sorted
 * and reversed input, and bsearch hits and misses at both ends. The data
 * comes from a fixed linear congruential generator. */
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t state = 42;
static uint32_t next(void) {
    state = state * 6364136223846793005u + 1442695040888963407u;
    return (uint32_t)(state >> 33);
}

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}
static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

struct rec {
    int key;
    char tag[7];
    double weight;
};
static int cmp_rec(const void *a, const void *b) {
    const struct rec *x = a, *y = b;
    if (x->key != y->key)
        return (x->key > y->key) - (x->key < y->key);
    return strcmp(x->tag, y->tag);
}

static uint64_t hash_ints(const int *v, size_t n) {
    uint64_t h = 1469598103934665603u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint32_t)v[i]) * 1099511628211u;
    return h;
}

int main(void) {
    enum { N = 5000 };
    static int v[N];
    for (int i = 0; i < N; i++)
        v[i] = (int)(next() % 2000) - 1000;
    v[0] = INT32_MIN;
    v[1] = INT32_MAX;
    qsort(v, N, sizeof v[0], cmp_int);
    int sorted = 1;
    for (int i = 1; i < N; i++)
        sorted &= v[i - 1] <= v[i];
    printf("ints sorted %d first %d last %d median %d hash %016" PRIx64 "\n", sorted, v[0],
           v[N - 1], v[N / 2], hash_ints(v, N));

    int probes[] = {INT32_MIN, INT32_MAX, -1000, 999, 0, 12345, -1001, 1000};
    for (unsigned i = 0; i < sizeof probes / sizeof probes[0]; i++) {
        int *hit = bsearch(&probes[i], v, N, sizeof v[0], cmp_int);
        printf("bsearch %d: %s\n", probes[i], hit ? (*hit == probes[i] ? "found" : "WRONG") : "absent");
    }

    /* Sorted and reversed inputs are the classic quicksort worst cases. */
    for (int i = 0; i < N; i++)
        v[i] = N - i;
    qsort(v, N, sizeof v[0], cmp_int);
    printf("reversed -> %d %d %d\n", v[0], v[N / 2], v[N - 1]);
    qsort(v, N, sizeof v[0], cmp_int);
    printf("sorted again -> %d %d %d\n", v[0], v[N / 2], v[N - 1]);

    static const char *words[] = {"pear", "apple", "fig", "banana", "cherry", "apple", "date",
                                  "Zebra", "", "elderberry", "fig", "grape"};
    enum { W = sizeof words / sizeof words[0] };
    const char *w[W];
    memcpy(w, words, sizeof w);
    qsort(w, W, sizeof w[0], cmp_str);
    for (int i = 0; i < W; i++)
        printf("%s'%s'", i ? " " : "words: ", w[i]);
    printf("\n");
    const char *key = "cherry";
    const char **found = bsearch(&key, w, W, sizeof w[0], cmp_str);
    printf("bsearch cherry at %td\n", found ? found - w : (ptrdiff_t)-1);

    enum { R = 300 };
    static struct rec recs[R];
    for (int i = 0; i < R; i++) {
        recs[i].key = (int)(next() % 10);
        for (int j = 0; j < 6; j++)
            recs[i].tag[j] = (char)('a' + next() % 26);
        recs[i].tag[6] = '\0';
        recs[i].weight = (double)next() / 7.0;
    }
    qsort(recs, R, sizeof recs[0], cmp_rec);
    double total = 0;
    for (int i = 0; i < R; i++)
        total += recs[i].weight * (i + 1);
    printf("records: first %d/%s last %d/%s weighted %.17g\n", recs[0].key, recs[0].tag,
           recs[R - 1].key, recs[R - 1].tag, total);
    return 0;
}
