/* http_multi.c - libcurl's multi handle as the event loops (strategies/epoll.c, uring.c) use it:
 * slots of reused easy handles, tasks set up and finished through the workload's http_ops, the
 * options libcurl 7.88 needs to stay linear in the transfers in flight, adds in rounds. How
 * sockets and the timeout are waited on is the loop's (bench/http_multi.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../bench/workloads/http.h"
#include "http_multi.h"
#include "../bench/core/workload.h"

/* One transfer in flight. Its easy handle is made once and reused by the slot's next tasks:
 * the connections themselves live in the multi handle's cache and are kept alive there. */
struct http_slot {
	CURL *easy;	   /* made on the slot's first transfer */
	struct task *task; /* the task in flight, NULL when the slot is free */
	void *ctx;	   /* the workload's state for the transfer (http_ops) */
};

struct http_multi {
	struct run *run;		     /* the run being carried out */
	const struct http_ops *ops;	     /* the workload's easy_setup and easy_done */
	CURLM *curl;			     /* libcurl's multi handle */
	struct http_slot *slots;	     /* slot_count of them */
	long slot_count;		     /* --jobs */
	long *free_slots;		     /* indexes of free slots, a stack */
	long free_count;		     /* entries in free_slots */
	long started;			     /* tasks handed to http_multi_start() */
	long ended;			     /* transfers libcurl has handed back */
	long added;			     /* transfers added in this round of the loop */
	void **sockets;			     /* the loop's records, by descriptor number */
	size_t sockets_len;		     /* entries in sockets */
	size_t socket_bytes;		     /* the size of a record */
	http_multi_finished_fn *on_finished; /* the loop's: a task is over */
	void *user;			     /* passed to on_finished */
};

struct http_multi *http_multi_init(struct run *run, long jobs, const struct http_multi_hooks *hooks,
				   void *user)
{
	struct http_multi *multi = calloc(1, sizeof(*multi));

	if (multi == NULL)
		goto out_no_memory;
	*multi = (struct http_multi){
	    .run = run,
	    .ops = run->params.workload->http,
	    .slot_count = jobs,
	    .socket_bytes = hooks->socket_bytes,
	    .on_finished = hooks->on_finished,
	    .user = user,
	};
	multi->slots = calloc((size_t)jobs, sizeof(*multi->slots));
	multi->free_slots = calloc((size_t)jobs, sizeof(*multi->free_slots));
	if (multi->slots == NULL || multi->free_slots == NULL)
		goto out_free;
	for (long i = jobs - 1; i >= 0; i--)
		multi->free_slots[multi->free_count++] = i; /* slot 0 on top */
	multi->curl = curl_multi_init();
	if (multi->curl == NULL)
		goto out_free;
	curl_multi_setopt(multi->curl, CURLMOPT_SOCKETFUNCTION, hooks->on_socket);
	curl_multi_setopt(multi->curl, CURLMOPT_SOCKETDATA, user);
	curl_multi_setopt(multi->curl, CURLMOPT_TIMERFUNCTION, hooks->on_timer);
	curl_multi_setopt(multi->curl, CURLMOPT_TIMERDATA, user);
	/* One idle connection kept per slot. libcurl's own bound is 4 x the handles in the multi
	 * handle, which drops while finished transfers are removed before new ones are added,
	 * and then it closes the very connections the next tasks would have reused. */
	curl_multi_setopt(multi->curl, CURLMOPT_MAXCONNECTS, jobs);
	return multi;
out_free:
	http_multi_free(multi);
out_no_memory:
	errno = ENOMEM;
	return NULL;
}

CURLM *http_multi_curl(const struct http_multi *multi)
{
	return multi->curl;
}

void *http_multi_socket(struct http_multi *multi, curl_socket_t fd)
{
	size_t index = (size_t)fd;

	if (index >= multi->sockets_len) {
		size_t len = multi->sockets_len > 0 ? multi->sockets_len * 2 : 64;
		while (len <= index)
			len *= 2;
		void **grown = realloc(multi->sockets, len * sizeof(*grown));
		if (grown == NULL)
			return NULL;
		memset(grown + multi->sockets_len, 0, (len - multi->sockets_len) * sizeof(*grown));
		multi->sockets = grown;
		multi->sockets_len = len;
	}
	if (multi->sockets[index] == NULL)
		multi->sockets[index] = calloc(1, multi->socket_bytes);
	return multi->sockets[index];
}

void *http_multi_socket_find(const struct http_multi *multi, curl_socket_t fd)
{
	return fd >= 0 && (size_t)fd < multi->sockets_len ? multi->sockets[fd] : NULL;
}

void http_multi_round_begin(struct http_multi *multi)
{
	if (multi != NULL)
		multi->added = 0;
}

bool http_multi_may_start(const struct http_multi *multi)
{
	return multi == NULL || (multi->free_count > 0 && multi->added < HTTP_MULTI_ADDS_PER_ROUND);
}

/* The transfer in slot is over: the workload checks it, the slot is free again. The task is
 * returned for the caller to finish (after it has said more, if it must). */
static struct task *slot_end(struct http_multi *multi, struct http_slot *slot, CURLcode result)
{
	struct task *task = slot->task;

	multi->ops->easy_done(multi->run, task, slot->easy, result, slot->ctx);
	slot->task = NULL;
	slot->ctx = NULL;
	multi->free_slots[multi->free_count++] = slot - multi->slots;
	return task;
}

/* libcurl 7.88 walks every connection to the host for an idle one to reuse when a transfer
 * starts, and every connection in its cache when a transfer that left its connection there is
 * removed: with n transfers in flight, n^2 steps. Before any transfer has ended there is no
 * idle connection to find (CURLOPT_FRESH_CONNECT). And when every task not yet started has a
 * free slot waiting for it (all in flight), none waits for this transfer to end: its
 * connection is closed when it is done (CURLOPT_FORBID_REUSE), not kept for a reuse that only
 * the timing of the rounds could bring. */
static void slot_connection_rule(struct http_multi *multi, struct http_slot *slot)
{
	long unstarted = multi->run->params.tasks - multi->started;

	curl_easy_setopt(slot->easy, CURLOPT_FRESH_CONNECT, multi->ended == 0 ? 1L : 0L);
	curl_easy_setopt(slot->easy, CURLOPT_FORBID_REUSE,
			 unstarted <= multi->free_count ? 1L : 0L);
}

void http_multi_start(struct http_multi *multi, struct task *task)
{
	struct http_slot *slot = &multi->slots[multi->free_slots[--multi->free_count]];

	multi->started++;
	multi->added++;
	slot->task = task;
	if (slot->easy == NULL)
		slot->easy = curl_easy_init();
	if (slot->easy == NULL) {
		run_task_failed(multi->run, task, ENOMEM, "curl_easy_init");
		goto out_free_slot;
	}
	if (multi->ops->easy_setup(multi->run, task, slot->easy, &slot->ctx) < 0)
		goto out_free_slot;
	curl_easy_setopt(slot->easy, CURLOPT_PRIVATE, slot);
	slot_connection_rule(multi, slot);
	CURLMcode rc = curl_multi_add_handle(multi->curl, slot->easy);
	if (rc != CURLM_OK) {
		slot_end(multi, slot, CURLE_FAILED_INIT);
		task->status = TASK_ERROR;
		snprintf(task->error, sizeof(task->error), "curl_multi_add_handle: %s",
			 curl_multi_strerror(rc));
		multi->on_finished(multi->user, task);
	}
	return;
out_free_slot:
	slot->task = NULL;
	multi->free_slots[multi->free_count++] = slot - multi->slots;
	multi->on_finished(multi->user, task);
}

void http_multi_drain(struct http_multi *multi)
{
	int queued;

	for (;;) {
		CURLMsg *message = curl_multi_info_read(multi->curl, &queued);
		if (message == NULL)
			break;
		if (message->msg != CURLMSG_DONE)
			continue;
		struct http_slot *slot = NULL;
		CURLcode result = message->data.result; /* message is gone once the handle is */
		curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, (char **)&slot);
		curl_multi_remove_handle(multi->curl, slot->easy);
		multi->ended++;
		multi->on_finished(multi->user, slot_end(multi, slot, result));
	}
}

void http_multi_cancel(struct http_multi *multi)
{
	for (long i = 0; multi != NULL && i < multi->slot_count; i++) {
		struct http_slot *slot = &multi->slots[i];
		if (slot->task == NULL)
			continue;
		curl_multi_remove_handle(multi->curl, slot->easy);
		multi->on_finished(multi->user, slot_end(multi, slot, CURLE_ABORTED_BY_CALLBACK));
	}
}

void http_multi_free(struct http_multi *multi)
{
	if (multi == NULL)
		return;
	for (long i = 0; multi->slots != NULL && i < multi->slot_count; i++) {
		if (multi->slots[i].easy == NULL)
			continue;
		if (multi->curl != NULL)
			curl_multi_remove_handle(multi->curl, multi->slots[i].easy);
		curl_easy_cleanup(multi->slots[i].easy);
	}
	if (multi->curl != NULL)
		curl_multi_cleanup(multi->curl); /* closes the cached connections */
	for (size_t fd = 0; fd < multi->sockets_len; fd++)
		free(multi->sockets[fd]);
	free(multi->sockets);
	free(multi->free_slots);
	free(multi->slots);
	free(multi);
}
