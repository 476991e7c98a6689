#define _GNU_SOURCE
/* Robust mutexes: a thread that ends while holding one leaves it marked
 * FUTEX_OWNER_DIED by the kernel's walk of its robust list, so the next
 * pthread_mutex_lock returns EOWNERDEAD (at once, or by waking a thread
 * already waiting), pthread_mutex_consistent repairs it, and it then locks
 * normally. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static pthread_mutex_t m;
static int locked;

static void *hold_and_exit(void *linger) {
    pthread_mutex_lock(&m);
    __atomic_store_n(&locked, 1, __ATOMIC_SEQ_CST);
    if (linger) {
        usleep(50000); /* the main thread is waiting by now */
    }
    return NULL;
}

static const char *name(int err) { return err ? strerrorname_np(err) : "0"; }

int main(void) {
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    printf("init: %s\n", name(pthread_mutex_init(&m, &a)));
    pthread_t t;

    /* The owner is gone before anyone asks. */
    pthread_create(&t, NULL, hold_and_exit, NULL);
    pthread_join(t, NULL);
    printf("lock after the owner exited: %s\n", name(pthread_mutex_lock(&m)));
    printf("consistent: %s\n", name(pthread_mutex_consistent(&m)));
    pthread_mutex_unlock(&m);
    printf("lock again: %s\n", name(pthread_mutex_lock(&m)));
    pthread_mutex_unlock(&m);

    /* The main thread waits while the owner dies. */
    static int linger = 1;
    __atomic_store_n(&locked, 0, __ATOMIC_SEQ_CST);
    pthread_create(&t, NULL, hold_and_exit, &linger);
    while (!__atomic_load_n(&locked, __ATOMIC_SEQ_CST)) {
        usleep(1000);
    }
    printf("waiter woken by the owner's death: %s\n", name(pthread_mutex_lock(&m)));
    pthread_join(t, NULL);
    return 0;
}
