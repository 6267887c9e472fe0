/* wait.h - the places where a task's straight-line code would block, as one
 * seam. By default each call blocks the calling thread (poll on a timerfd,
 * read, a transfer); a strategy that runs many tasks on one thread
 * installs hooks for that thread that yield to its loop. */
#ifndef IOSTRAT_WAIT_H
#define IOSTRAT_WAIT_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#include <curl/curl.h>

/* What a strategy puts in place of blocking, for the threads it installs them
 * in. */
struct wait_hooks {
	/* Sleep until deadline_ns (CLOCK_MONOTONIC) or until the run stops: 0
	 * when the deadline came, -ECANCELED when the run stopped, -errno on
	 * failure. */
	int (*sleep_until)(void *self, int64_t deadline_ns);
	/* Run work(arg) to its end in another thread; return once it is done.
	 */
	void (*elsewhere)(void *self, void (*work)(void *arg), void *arg);
	/* Carry out easy's transfer: what curl_easy_perform(easy) would return.
	 */
	CURLcode (*transfer)(void *self, CURL *easy);
	/* Storage per flow of control (what pthread_getspecific is per thread).
	 */
	void *(*local_get)(void *self, pthread_key_t key);
	int (*local_set)(void *self, pthread_key_t key, void *value,
			 void (*destructor)(void *value));
};

/* The calling thread's hooks from now on (self is passed to each); NULL: block
 * again. */
void wait_hooks_install(const struct wait_hooks *hooks, void *self);

/* Sleep for delay_ns, or less when the run stops: 0 when the delay passed,
 * -ECANCELED when the run stopped, -errno on failure with *failed naming the
 * call. */
int wait_sleep(int64_t delay_ns, const char **failed);

/* read(2): blocking in this thread, or carried out in another while this flow
 * waits. */
ssize_t wait_read(int fd, void *buf, size_t len);

/* What curl_easy_perform(3) does, waking on Ctrl-C: blocking in *multi, the
 * calling thread's own multi handle (made on first use; the caller cleans it
 * up), or the transfer carried out by the thread's loop meanwhile. */
CURLcode wait_transfer(CURL *easy, CURLM **multi);

/* pthread_getspecific / pthread_setspecific, per flow of control: a coroutine
 * has its own. The destructor is key's own (from pthread_key_create), for flows
 * that are not threads. */
void *wait_local_get(pthread_key_t key);
int wait_local_set(pthread_key_t key, void *value,
		   void (*destructor)(void *value));

#endif
