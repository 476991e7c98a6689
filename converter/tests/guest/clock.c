/* Clocks and sleeping, printing only facts that hold on any host: the
 * monotonic clocks never go backwards over many reads, tv_nsec is in
 * range, the realtime clock is after 2020, a 2 ms nanosleep takes at least
 * 2 ms, resolutions are positive and at most 1 ms, and bad clock ids and
 * timespecs give EINVAL. */
#include <errno.h>
#include <stdio.h>
#include <sys/time.h>
#include <time.h>

static long long ns(struct timespec t) { return t.tv_sec * 1000000000LL + t.tv_nsec; }

int main(void) {
    static const struct {
        clockid_t id;
        const char *name;
    } clocks[] = {
        {CLOCK_MONOTONIC, "CLOCK_MONOTONIC"},
        {CLOCK_MONOTONIC_RAW, "CLOCK_MONOTONIC_RAW"},
        {CLOCK_BOOTTIME, "CLOCK_BOOTTIME"},
        {CLOCK_MONOTONIC_COARSE, "CLOCK_MONOTONIC_COARSE"},
        {CLOCK_PROCESS_CPUTIME_ID, "CLOCK_PROCESS_CPUTIME_ID"},
        {CLOCK_THREAD_CPUTIME_ID, "CLOCK_THREAD_CPUTIME_ID"},
    };
    for (unsigned c = 0; c < sizeof clocks / sizeof clocks[0]; c++) {
        struct timespec prev, now, res;
        int ok = clock_gettime(clocks[c].id, &prev) == 0, monotonic = 1, in_range = 1;
        for (int i = 0; i < 2000; i++) {
            ok &= clock_gettime(clocks[c].id, &now) == 0;
            monotonic &= ns(now) >= ns(prev);
            in_range &= now.tv_nsec >= 0 && now.tv_nsec < 1000000000;
            prev = now;
        }
        int res_ok = clock_getres(clocks[c].id, &res) == 0 && ns(res) > 0;
        printf("%s: ok %d monotonic %d nsec in range %d getres ok %d\n", clocks[c].name, ok,
               monotonic, in_range, res_ok);
    }
    struct timespec res;
    clock_getres(CLOCK_MONOTONIC, &res);
    printf("CLOCK_MONOTONIC resolution at most 1 ms: %d\n", ns(res) <= 1000000);

    struct timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    printf("CLOCK_REALTIME after 2020: %d\n", rt.tv_sec > 1577836800);
    struct timeval tv;
    gettimeofday(&tv, NULL);
    printf("gettimeofday agrees within 10 s: %d, usec in range %d\n",
           tv.tv_sec - rt.tv_sec < 10 && rt.tv_sec - tv.tv_sec < 10,
           tv.tv_usec >= 0 && tv.tv_usec < 1000000);
    time_t t = time(NULL);
    printf("time() agrees within 10 s: %d\n", t - rt.tv_sec < 10 && rt.tv_sec - t < 10);

    struct timespec before, after, nap = {0, 2000000};
    clock_gettime(CLOCK_MONOTONIC, &before);
    int rc = nanosleep(&nap, NULL);
    clock_gettime(CLOCK_MONOTONIC, &after);
    printf("nanosleep 2 ms: rc %d slept at least 2 ms %d\n", rc, ns(after) - ns(before) >= 2000000);
    clock_gettime(CLOCK_MONOTONIC, &before);
    rc = clock_nanosleep(CLOCK_MONOTONIC, 0, &nap, NULL);
    clock_gettime(CLOCK_MONOTONIC, &after);
    printf("clock_nanosleep 2 ms: rc %d slept at least 2 ms %d\n", rc,
           ns(after) - ns(before) >= 2000000);
    struct timespec deadline = after;
    deadline.tv_nsec += 1000000;
    if (deadline.tv_nsec >= 1000000000) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000;
    }
    rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, NULL);
    struct timespec woke;
    clock_gettime(CLOCK_MONOTONIC, &woke);
    printf("clock_nanosleep TIMER_ABSTIME: rc %d woke after deadline %d\n", rc,
           ns(woke) >= ns(deadline));
    /* A deadline in the past returns at once. */
    rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &before, NULL);
    printf("clock_nanosleep past deadline: rc %d\n", rc);

    errno = 0;
    rc = clock_gettime((clockid_t)12345, &before);
    printf("clock_gettime(12345): rc %d errno EINVAL %d\n", rc, errno == EINVAL);
    struct timespec bad = {0, 1000000000};
    errno = 0;
    rc = nanosleep(&bad, NULL);
    printf("nanosleep tv_nsec=1e9: rc %d errno EINVAL %d\n", rc, errno == EINVAL);
    bad.tv_nsec = -1;
    errno = 0;
    rc = nanosleep(&bad, NULL);
    printf("nanosleep tv_nsec=-1: rc %d errno EINVAL %d\n", rc, errno == EINVAL);
    return 0;
}
