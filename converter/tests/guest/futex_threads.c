/* Raw futexes between threads: FUTEX_WAIT returns EAGAIN when the word
 * already changed and ETIMEDOUT after a relative timeout; FUTEX_WAIT_BITSET
 * with an absolute CLOCK_MONOTONIC deadline times out; a waiter is woken by
 * FUTEX_WAKE from another thread; FUTEX_WAKE_BITSET only wakes waiters with
 * a matching bit; FUTEX_CMP_REQUEUE moves waiters to a second word and
 * fails with EAGAIN when the value moved on; sched_yield lets a spinning
 * thread's partner run; pthread_join after each. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long futex(atomic_int *uaddr, int op, int val, const struct timespec *ts, atomic_int *uaddr2,
                  int val3) {
    return syscall(SYS_futex, uaddr, op, val, ts, uaddr2, val3);
}

static atomic_int word, word2, started, woken_count;

static void *waiter(void *arg) {
    int bits = (int)(intptr_t)arg;
    atomic_fetch_add(&started, 1);
    while (atomic_load(&word) == 0)
        futex(&word, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, 0, NULL, NULL, bits);
    atomic_fetch_add(&woken_count, 1);
    return NULL;
}

static void *plain_waiter(void *arg) {
    (void)arg;
    atomic_fetch_add(&started, 1);
    long r = futex(&word2, FUTEX_WAIT, 0, NULL, NULL, 0);
    atomic_fetch_add(&woken_count, 1);
    return (void *)(intptr_t)(r == 0 ? 1 : r == -1 && errno == EAGAIN ? 2 : 3);
}

static atomic_int ball;
static void *ponger(void *arg) {
    (void)arg;
    for (int i = 0; i < 100; i++) {
        while (atomic_load(&ball) != 1)
            sched_yield();
        atomic_store(&ball, 0);
    }
    return NULL;
}

static int waiting_on(atomic_int *w, int n) {
    /* Give waiters time to block: we cannot observe it directly. */
    for (int i = 0; i < 50 && atomic_load(&started) < n; i++)
        sched_yield();
    struct timespec ts = {0, 200 * 1000 * 1000};
    nanosleep(&ts, NULL);
    (void)w;
    return atomic_load(&started);
}

int main(void) {
    atomic_int v = 5;
    long r = futex(&v, FUTEX_WAIT, 4, NULL, NULL, 0);
    printf("wait on a changed word: %ld %s\n", r, errno == EAGAIN ? "EAGAIN" : "?");
    struct timespec rel = {0, 30 * 1000 * 1000};
    r = futex(&v, FUTEX_WAIT, 5, &rel, NULL, 0);
    printf("relative timeout: %ld %s\n", r, errno == ETIMEDOUT ? "ETIMEDOUT" : "?");
    struct timespec abs;
    clock_gettime(CLOCK_MONOTONIC, &abs);
    abs.tv_nsec += 30 * 1000 * 1000;
    if (abs.tv_nsec >= 1000000000) {
        abs.tv_sec++;
        abs.tv_nsec -= 1000000000;
    }
    r = futex(&v, FUTEX_WAIT_BITSET, 5, &abs, NULL, FUTEX_BITSET_MATCH_ANY);
    printf("absolute timeout: %ld %s\n", r, errno == ETIMEDOUT ? "ETIMEDOUT" : "?");
    printf("wake with nobody waiting: %ld\n", futex(&v, FUTEX_WAKE, 1, NULL, NULL, 0));

    /* Bitset wakes. */
    pthread_t t[4];
    pthread_create(&t[0], NULL, waiter, (void *)(intptr_t)1);
    pthread_create(&t[1], NULL, waiter, (void *)(intptr_t)2);
    waiting_on(&word, 2);
    atomic_store(&word, 1);
    long n1 = futex(&word, FUTEX_WAKE_BITSET | FUTEX_PRIVATE_FLAG, 10, NULL, NULL, 2);
    pthread_join(t[1], NULL);
    long n2 = futex(&word, FUTEX_WAKE_BITSET | FUTEX_PRIVATE_FLAG, 10, NULL, NULL, 1);
    pthread_join(t[0], NULL);
    printf("bitset wakes: %ld then %ld, woken %d\n", n1, n2, atomic_load(&woken_count));

    /* Requeue two waiters from word2 to word, then wake them there. */
    atomic_store(&started, 0);
    atomic_store(&woken_count, 0);
    pthread_create(&t[2], NULL, plain_waiter, NULL);
    pthread_create(&t[3], NULL, plain_waiter, NULL);
    waiting_on(&word2, 2);
    r = futex(&word2, FUTEX_CMP_REQUEUE, 0, (void *)(intptr_t)10, &word, 1);
    printf("cmp_requeue with a stale value: %ld %s\n", r, errno == EAGAIN ? "EAGAIN" : "?");
    r = futex(&word2, FUTEX_CMP_REQUEUE, 0, (void *)(intptr_t)10, &word, 0);
    printf("cmp_requeue: %ld moved, woken so far %d\n", r, atomic_load(&woken_count));
    r = futex(&word, FUTEX_WAKE, 10, NULL, NULL, 0);
    void *ret2, *ret3;
    pthread_join(t[2], &ret2);
    pthread_join(t[3], &ret3);
    printf("woken on the new word: %ld, both returned 0: %d\n", r,
           (intptr_t)ret2 == 1 && (intptr_t)ret3 == 1);

    /* sched_yield ping-pong. */
    pthread_t p;
    pthread_create(&p, NULL, ponger, NULL);
    for (int i = 0; i < 100; i++) {
        atomic_store(&ball, 1);
        while (atomic_load(&ball) != 0)
            sched_yield();
    }
    pthread_join(p, NULL);
    printf("100 ping-pongs with sched_yield\n");
    return 0;
}
