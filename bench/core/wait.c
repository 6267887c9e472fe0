/* wait.c - the blocking behaviour behind bench/core/wait.h, and the per-thread
 * hooks that replace it. The blocking sleep waits in poll() on a timerfd and on
 * the run's stop descriptor: a plain timed wait in the kernel that Ctrl-C can
 * also end at once. */
#include <errno.h>
#include <poll.h>
#include <sys/timerfd.h>
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

/* poll()'s own timeout would do, but the kernel lets it oversleep by 0.1% of
 * the timeout (1 ms a second), which would count as the strategy's overhead; a
 * timerfd fires within the thread's timer slack (50 us). */
static int wait_sleep_blocking(int64_t deadline_ns, const char **failed)
{
	struct itimerspec when = {
	    .it_value = {.tv_sec = deadline_ns / 1000000000LL,
			 .tv_nsec = deadline_ns % 1000000000LL},
	};
	struct pollfd fds[2] = {
	    {.fd = -1, .events = POLLIN},	   /* the timer */
	    {.fd = run_stop_fd, .events = POLLIN}, /* Ctrl-C */
	};
	int ready;
	int err;

	fds[0].fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	if (fds[0].fd < 0) {
		*failed = "timerfd_create";
		return -errno;
	}
	if (timerfd_settime(fds[0].fd, TFD_TIMER_ABSTIME, &when, NULL) < 0) {
		*failed = "timerfd_settime";
		goto out_error;
	}
	do {
		ready = poll(fds, 2, -1);
	} while (ready < 0 && errno == EINTR && !run_stopping());
	if (ready < 0 && !run_stopping()) {
		*failed = "poll";
		goto out_error;
	}
	close(fds[0].fd);
	return fds[0].revents & POLLIN ? 0 : -ECANCELED;
out_error:
	err = errno;
	close(fds[0].fd);
	return -err;
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

CURLcode wait_transfer(CURL *easy)
{
	if (wait_hooks == NULL)
		return curl_easy_perform(easy);
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
