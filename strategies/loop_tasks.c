/* loop_tasks.c - starting and ending tasks for the event loops, and the
 * sleepers' deadline heap (loop_tasks.h). */
#include <errno.h>
#include <string.h>

#include "../bench/core/workload.h"
#include "loop_tasks.h"

int loop_tasks_init(struct loop_tasks *tasks, struct run *run,
		    bool with_sleepers)
{
	*tasks = (struct loop_tasks){.run = run};
	if (with_sleepers &&
	    minheap_init(&tasks->sleepers, (size_t)run_jobs(run)) < 0)
		return run_fail(run, ENOMEM, "%s: the sleepers' heap: %s",
				run->params.strategy_name, strerror(ENOMEM));
	return 0;
}

void loop_tasks_free(struct loop_tasks *tasks)
{
	minheap_free(&tasks->sleepers);
}

struct task *loop_tasks_next(struct loop_tasks *tasks,
			     const struct loop_http *http)
{
	struct run *run = tasks->run;

	if (tasks->next >= run->params.tasks ||
	    run->inflight >= run_jobs(run) || !loop_http_may_start(http) ||
	    run_stopping())
		return NULL;
	struct task *task = &run->tasks[tasks->next++];
	run_task_started(run, task);
	run_inflight_add(run, 1);
	return task;
}

void loop_tasks_finish(struct loop_tasks *tasks, struct task *task)
{
	run_task_finished(tasks->run, task);
	run_inflight_add(tasks->run, -1);
	tasks->done++;
}

bool loop_tasks_all_done(const struct loop_tasks *tasks)
{
	return tasks->done >= tasks->run->params.tasks;
}

int loop_tasks_sleep(struct loop_tasks *tasks, struct task *task,
		     int64_t deadline_ns)
{
	if (minheap_push(&tasks->sleepers, deadline_ns, task->id) < 0)
		return run_fail(
		    tasks->run, ENOMEM, "%s: the sleepers' heap: %s",
		    tasks->run->params.strategy_name, strerror(ENOMEM));
	return 0;
}

int64_t loop_tasks_earliest_ns(const struct loop_tasks *tasks)
{
	return tasks->sleepers.len > 0 ? minheap_top(&tasks->sleepers).key : -1;
}

void loop_tasks_wake(struct loop_tasks *tasks, int64_t now_ns, int status)
{
	while (tasks->sleepers.len > 0 &&
	       minheap_top(&tasks->sleepers).key <= now_ns) {
		struct minheap_item due = minheap_pop(&tasks->sleepers);
		struct task *task = &tasks->run->tasks[due.value];
		task->status = status;
		loop_tasks_finish(tasks, task);
	}
}

void loop_tasks_cancel_sleepers(struct loop_tasks *tasks)
{
	loop_tasks_wake(tasks, INT64_MAX, TASK_CANCELLED);
}

static void finish_id(void *user, long id)
{
	struct loop_tasks *tasks = user;

	loop_tasks_finish(tasks, &tasks->run->tasks[id]);
}

int loop_tasks_pool_ready(struct loop_tasks *tasks, struct loop_pool *pool,
			  bool inline_reads)
{
	if (loop_pool_drain(pool, finish_id, tasks) < 0)
		return -1;
	if (!inline_reads)
		return 0;
	long id = loop_pool_pop(pool);
	if (id < 0)
		return 0;
	struct task *task = &tasks->run->tasks[id];
	tasks->run->params.workload->task_run(tasks->run, task);
	loop_tasks_finish(tasks, task);
	if (loop_pool_queued(pool) > 0)
		loop_pool_wake(pool);
	return 0;
}

void loop_tasks_pool_cancel(struct loop_tasks *tasks, struct loop_pool *pool)
{
	if (pool == NULL)
		return;
	loop_pool_stop(pool);
	loop_pool_drain(pool, finish_id, tasks);
	for (long id = loop_pool_pop(pool); id >= 0; id = loop_pool_pop(pool)) {
		struct task *task = &tasks->run->tasks[id];
		task->status = TASK_CANCELLED;
		loop_tasks_finish(tasks, task);
	}
}

static int start_one(struct loop_tasks *tasks, struct task *task,
		     struct loop_pool *pool, struct loop_http *http)
{
	switch (tasks->run->params.workload->kind) {
	case WORKLOAD_SLEEP:
		return loop_tasks_sleep(tasks, task,
					run_now_ns() + task->delay_ns);
	case WORKLOAD_FILE:
		loop_pool_submit(pool, task->id);
		return 0;
	case WORKLOAD_HTTP:
		loop_http_start(http, task);
		return 0;
	}
	return 0;
}

int loop_tasks_start(struct loop_tasks *tasks, struct loop_pool *pool,
		     struct loop_http *http)
{
	loop_http_round_begin(http);
	for (;;) {
		struct task *task = loop_tasks_next(tasks, http);
		if (task == NULL)
			return 0;
		if (start_one(tasks, task, pool, http) < 0)
			return -1;
	}
}

void loop_tasks_cancel(struct loop_tasks *tasks, struct loop_pool *pool,
		       struct loop_http *http)
{
	loop_tasks_pool_cancel(tasks, pool);
	loop_http_cancel(http);
	loop_tasks_cancel_sleepers(tasks);
	run_cancel_pending(tasks->run);
}
