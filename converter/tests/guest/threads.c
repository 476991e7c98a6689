/* POSIX threads: four threads hammer an atomic counter and a
 * mutex-protected counter, each keeps its own __thread variable, a
 * condition variable hands a token round-robin, pthread_once runs once, and
 * join returns each thread's value. Only totals are printed, after the
 * joins, so the output does not depend on scheduling. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#define THREADS 4
#define ROUNDS 20000

static atomic_long atomic_total;
static long locked_total;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static __thread long mine = 1000;

static pthread_mutex_t token_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t token_cond = PTHREAD_COND_INITIALIZER;
static int token; /* whose turn it is */
static char order[THREADS * 5 + 1];
static int order_len;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int once_runs;
static void run_once(void) { once_runs++; }

static void *worker(void *arg) {
    long id = (long)(intptr_t)arg;
    pthread_once(&once, run_once);
    for (int i = 0; i < ROUNDS; i++) {
        atomic_fetch_add(&atomic_total, 1);
        pthread_mutex_lock(&lock);
        locked_total += 2;
        pthread_mutex_unlock(&lock);
        mine += id;
    }
    /* Take five turns, in thread order. */
    for (int turn = 0; turn < 5; turn++) {
        pthread_mutex_lock(&token_lock);
        while (token != id)
            pthread_cond_wait(&token_cond, &token_lock);
        order[order_len++] = (char)('A' + id);
        token = (token + 1) % THREADS;
        pthread_cond_broadcast(&token_cond);
        pthread_mutex_unlock(&token_lock);
    }
    return (void *)(intptr_t)mine;
}

int main(void) {
    pthread_t threads[THREADS];
    for (long i = 0; i < THREADS; i++)
        if (pthread_create(&threads[i], NULL, worker, (void *)(intptr_t)i) != 0) {
            printf("pthread_create failed\n");
            return 1;
        }
    for (int i = 0; i < THREADS; i++) {
        void *ret;
        pthread_join(threads[i], &ret);
        printf("thread %d returned its own __thread value %ld\n", i, (long)(intptr_t)ret);
    }
    printf("main's __thread value untouched: %ld\n", mine);
    printf("atomic total %ld, locked total %ld\n", (long)atomic_total, locked_total);
    printf("turn order %s\n", order);
    printf("pthread_once ran %d time(s)\n", once_runs);
    return 0;
}
