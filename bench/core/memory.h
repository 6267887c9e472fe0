/* memory.h - what a process, a thread and a task cost in memory, each page
 * counted once: a process reads its own /proc/self/smaps_rollup, status and
 * maps; a stack's resident pages come from mincore(); the run's total adds
 * what the kernel spends beside the pages (page tables, kernel stacks). */
#ifndef IOSTRAT_MEMORY_H
#define IOSTRAT_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>

struct run;
struct task;

/* A kernel stack: THREAD_SIZE, PAGE_SIZE << 2 on x86-64 without KASAN
 * (arch/x86/include/asm/page_64_types.h); arm64's is 16 KiB too. */
#define MEMORY_KERNEL_STACK_BYTES (16 * 1024)

/* One process's memory as it reads it itself. 0 where a file gave nothing. */
struct memory_reading {
	uint64_t rss_bytes; /* smaps_rollup Rss: resident, shared too */
	uint64_t pss_bytes; /* Pss: each page split among its users */
	uint64_t
	    private_clean_bytes; /* Private_Clean: only this process maps */
	uint64_t private_dirty_bytes; /* Private_Dirty: its own written pages */
	uint64_t anon_bytes;	      /* status RssAnon: every anonymous page */
	uint64_t shmem_bytes;	    /* status RssShmem: shared memory mapped */
	uint64_t page_tables_bytes; /* status VmPTE */
	long threads;		    /* status Threads */
	long vmas;		    /* mappings (lines of /proc/self/maps) */
	long vmas_writable;	    /* private writable ones (rw-p) */
};

/* One child process of the run, written by the child into a shared mapping
 * just before it exits; read by the parent after wait4(). */
struct memory_child {
	int64_t start_ns; /* when the child began, since run start */
	int64_t end_ns;	  /* when it measured itself, just before exit */
	uint64_t heap_start_bytes;  /* its heap at the start: its copy of the
				       parent's at fork() */
	uint64_t heap_peak_bytes;   /* its heap's peak over its own life */
	uint64_t uss_bytes;	    /* Private_Clean + Private_Dirty */
	uint64_t pss_bytes;	    /* Pss */
	uint64_t added_bytes;	    /* what it added to the machine: its dirty
				       private pages, page tables, kernel
				       stacks, kernel objects */
	uint64_t page_tables_bytes; /* VmPTE */
	uint64_t kernel_objects_bytes; /* estimated: see memory.c */
	long threads;		       /* its threads, the kernel's count */
	int64_t read_ns;	       /* what reading /proc cost it */
	long task_id;		       /* the one task it ran, or -1 */
	bool heap_measured;	       /* heap figures are set */
	bool measured;		       /* the /proc figures are set */
};

/* The run's memory bookkeeping (struct run holds one). */
struct memory_run {
	bool on; /* /proc readings taken (IOSTRAT_MEMORY is
		    not "off") */
	struct memory_child *children; /* one per task, shared mapping, or NULL
					  when tasks run in this process */
	size_t children_map_bytes;     /* size of that mapping */
	struct memory_reading parent;  /* the parent's sample that cost most */
	uint64_t parent_added_bytes;   /* what that sample adds up to */
	int64_t sampled_ns;	       /* when the parent last sampled itself */
	int64_t sample_cost_ns;	       /* what that sample cost */
	long samples;		       /* samples the parent took */
	bool sampled_at_finish;	       /* the first finished task was sampled */
	_Atomic long tasks_running;    /* tasks between start and end in this
					  process (strategies of one process) */
	_Atomic bool sampled_when_full; /* sampled when all slots first ran */
	long vmas_at_fork;	       /* the parent's mappings, which each
					  child inherits */
	long vmas_writable_at_fork;    /* of those, private writable */
	uint64_t stack_resident_bytes; /* threads' resident stacks, at peak */
};

/* The run's figures, computed after the run. */
struct memory_summary {
	bool measured;		       /* the /proc figures below are set */
	uint64_t total_bytes;	       /* what the run added at its peak */
	uint64_t pages_bytes;	       /* of that, pages, each counted once */
	uint64_t page_tables_bytes;    /* of that, page tables */
	uint64_t kernel_stacks_bytes;  /* of that, kernel stacks */
	uint64_t kernel_objects_bytes; /* of that, kernel objects (estimated) */
	uint64_t uss_total_bytes;      /* USS added over the processes then */
	uint64_t pss_total_bytes;      /* PSS added over the processes then */
	long processes;		       /* processes alive at that peak */
	long children_heaps;	       /* children with heap figures */
	uint64_t heap_child_max_bytes; /* largest child heap peak */
	uint64_t heap_child_median_bytes; /* median child heap peak */
	uint64_t
	    heap_child_start_min_bytes; /* smallest heap a child began
					   with (its copy of the parent's) */
	double read_us_median;		/* what a child's reading cost */
	long children_read;		/* children that read themselves */
};

/* Parsing, for a buffer holding /proc/self/smaps_rollup or status: fill the
 * fields that file has; -1 when it has none of them. */
int memory_parse_rollup(const char *text, struct memory_reading *out);
int memory_parse_status(const char *text, struct memory_reading *out);
/* Counting mappings in /proc/self/maps, fed in pieces of any size. */
struct memory_maps_count {
	long vmas;	    /* lines seen */
	long vmas_writable; /* of them with perms rw-p */
	int column;	    /* where the scan is in the current line */
	char perms[4];	    /* the perms field so far */
	int perms_len;	    /* bytes of it */
};
void memory_count_maps(struct memory_maps_count *count, const char *text,
		       size_t len);

/* Reads this process's smaps_rollup and status (and maps when with_maps):
 * 0, or a negative errno. No malloc: safe in a child just before _exit(). */
int memory_read_self(struct memory_reading *out, bool with_maps);

/* What the kernel spends on a process's objects (task_struct, mm, VMAs...),
 * estimated from counts; generations is 1 for a process that was not forked
 * from one of the run, 2 for its child. */
uint64_t memory_kernel_objects_bytes(long threads, long vmas,
				     long vmas_writable, int generations);

/* Resident bytes of [addr, addr + len) (mincore()); 0 on failure. */
uint64_t memory_resident_bytes(const void *addr, size_t len);
/* The calling thread's stack (not the main thread's): resident bytes. */
uint64_t memory_thread_stack_resident_bytes(void);

/* Stacks: resident_bytes[i] is task i's stack (a thread's, a coroutine's)
 * as its task ended; run->memory.stack_resident_bytes becomes the most that
 * were resident together, by the tasks' start and end times. */
void memory_stacks_peak(struct run *run, const uint64_t *resident_bytes);

/* The most of these weighted intervals alive at one moment (an end at t comes
 * before a start at t); *when_ns gets that moment. -1 times are skipped. */
uint64_t memory_peak_overlap(const int64_t *starts_ns, const int64_t *ends_ns,
			     const uint64_t *weights, long count,
			     int64_t *when_ns);

/* The run's side: set up at run_init(), freed at run_free(). */
int memory_run_init(struct run *run);
void memory_run_free(struct run *run);
/* The parent (never a child) samples itself at the moments its memory may
 * peak: with the threads' count (every slot busy, then now and then,
 * rate-limited unless force), the first task done, the end. */
void memory_sample_parent(struct run *run, bool force);
/* A task is done (in the parent): the first one is always sampled. */
void memory_task_done(struct run *run);
/* A task starts (delta 1) or ends (-1) in this process's threads: sampled once
 * when every slot is running. */
void memory_task_running(struct run *run, int delta);
/* In a child: note its start (call first), then measure it just before it
 * exits, into its record. slot names the record (0 .. tasks-1): the task's id
 * under processes, a worker's number under a strategy whose processes each run
 * many tasks; task_id is the one task the process ran, or -1 for such a worker
 * (then the tasks' entries carry no per-process figures). */
void memory_child_begin(struct run *run, long slot, long task_id);
void memory_child_end(struct run *run, long slot);
const struct memory_child *memory_child_record(const struct run *run,
					       long slot);
void memory_summarize(const struct run *run, struct memory_summary *out);

/* The printed lines and the result document's keys: what the run added (each
 * page once), the summed RSS for what it is, each child's own heap. */
void memory_print(const struct run *run, const struct memory_summary *m,
		  uint64_t rss_sum_peak_bytes, FILE *out);
void memory_json_summary(const struct run *run, const struct memory_summary *m,
			 json_t *summary);
void memory_json_task(const struct run *run, const struct task *task,
		      json_t *entry);

#endif
