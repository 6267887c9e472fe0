/* wait.c - the blocking behaviour behind bench/core/wait.h, and the per-thread
 * hooks that replace it. The blocking sleep waits in ppoll() on the run's stop
 * descriptor, and a transfer in curl_multi_poll() on it too: plain waits in the
 * kernel that Ctrl-C can also end at once, with no descriptor per task. */
#include <errno.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include "run.h"
#include "wait.h"

static __thread const struct wait_hooks
    *wait_hooks;		 /* this thread's, or NULL */
static __thread void *wait_self; /* passed to each of them */

void wait_hooks_install(const struct wait_hooks *hooks, void *self)
{
	wait_hooks = hooks;
	wait_self = self;
}

/* The last stretch of a sleep, slept with clock_nanosleep() (Ctrl-C waits
 * for it): about a millisecond. */
#define WAIT_SLEEP_LAST_NS 1000000LL

/* A blocking sleep with no descriptor of its own: ppoll() on the run's stop
 * descriptor, so that Ctrl-C ends it at once, then clock_nanosleep() to the
 * deadline. ppoll() alone would do, but the kernel lets it oversleep by 0.1%
 * of its timeout (1 ms a second), which would count as the strategy's
 * overhead: each ppoll() is asked to end that much early, and the last
 * millisecond or so is an absolute clock_nanosleep(), which ends within the
 * thread's timer slack (50 us). */
static int wait_sleep_blocking(int64_t deadline_ns, const char **failed)
{
	struct pollfd stop = {.fd = run_stop_fd, .events = POLLIN};
	int64_t left_ns = deadline_ns - run_now_ns();
	struct timespec until = {.tv_sec = deadline_ns / 1000000000LL,
				 .tv_nsec = deadline_ns % 1000000000LL};

	while (left_ns > WAIT_SLEEP_LAST_NS && !run_stopping()) {
		int64_t wait_ns = left_ns - left_ns / 500 - WAIT_SLEEP_LAST_NS / 2;
		struct timespec timeout = {.tv_sec = wait_ns / 1000000000LL,
					   .tv_nsec = wait_ns % 1000000000LL};
		if (ppoll(&stop, 1, &timeout, NULL) < 0 && errno != EINTR) {
			*failed = "ppoll";
			return -errno;
		}
		left_ns = deadline_ns - run_now_ns();
	}
	while (!run_stopping() &&
	       clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL) ==
		   EINTR) {
	}
	return run_stopping() ? -ECANCELED : 0;
}

int wait_sleep(int64_t delay_ns, const char **failed)
{
	int64_t deadline_ns = run_now_ns() + delay_ns;

	*failed = "sleep";
	if (wait_hooks != NULL)
		return wait_hooks->sleep_until(wait_self, deadline_ns);
	return wait_sleep_blocking(deadline_ns, failed);
}

/* One read() handed to another thread: its arguments, and its result and errno.
 */
struct wait_read_call {
	int fd;		/* as read() takes them */
	void *buf;	/* ... */
	size_t len;	/* ... */
	ssize_t got;	/* what read() returned */
	int read_errno; /* errno after it, when got < 0 */
};

static void wait_read_work(void *arg)
{
	struct wait_read_call *call = arg;

	call->got = read(call->fd, call->buf, call->len);
	call->read_errno = call->got < 0 ? errno : 0;
}

ssize_t wait_read(int fd, void *buf, size_t len)
{
	struct wait_read_call call = {.fd = fd, .buf = buf, .len = len};

	if (wait_hooks == NULL)
		return read(fd, buf, len);
	wait_hooks->elsewhere(wait_self, wait_read_work, &call);
	if (call.got < 0)
		errno = call.read_errno;
	return call.got;
}

/* The blocking transfer: easy in the thread's own multi handle, waiting in
 * curl_multi_poll() on the transfer's sockets and on the run's stop
 * descriptor, so that Ctrl-C ends it at once (curl_easy_perform() would wait
 * for libcurl's next progress call, up to a second). */
static CURLcode wait_transfer_blocking(CURL *easy, CURLM **multi)
{
	struct curl_waitfd stop = {.fd = run_stop_fd, .events = CURL_WAIT_POLLIN};
	CURLcode result = CURLE_ABORTED_BY_CALLBACK;
	int running = 1;

	if (*multi == NULL)
		*multi = curl_multi_init();
	if (*multi == NULL)
		return CURLE_OUT_OF_MEMORY;
	CURLMcode mc = curl_multi_add_handle(*multi, easy);
	while (mc == CURLM_OK && !run_stopping()) {
		mc = curl_multi_perform(*multi, &running);
		if (mc != CURLM_OK || running == 0)
			break;
		mc = curl_multi_poll(*multi, &stop, 1, 1000, NULL);
	}
	for (CURLMsg *msg; running == 0 &&
			   (msg = curl_multi_info_read(*multi, &(int){0})) != NULL;) {
		if (msg->msg == CURLMSG_DONE)
			result = msg->data.result;
	}
	curl_multi_remove_handle(*multi, easy);
	if (mc == CURLM_OUT_OF_MEMORY)
		return CURLE_OUT_OF_MEMORY;
	if (mc != CURLM_OK)
		return CURLE_FAILED_INIT;
	return result;
}

CURLcode wait_transfer(CURL *easy, CURLM **multi)
{
	if (wait_hooks == NULL)
		return wait_transfer_blocking(easy, multi);
	return wait_hooks->transfer(wait_self, easy);
}

void *wait_local_get(pthread_key_t key)
{
	if (wait_hooks == NULL)
		return pthread_getspecific(key);
	return wait_hooks->local_get(wait_self, key);
}

int wait_local_set(pthread_key_t key, void *value,
		   void (*destructor)(void *value))
{
	if (wait_hooks == NULL)
		return pthread_setspecific(key, value);
	return wait_hooks->local_set(wait_self, key, value, destructor);
}
