/* workloads.c - the list of workloads, looked up by name. Add a workload here
 * and nowhere else. */
#include <stddef.h>
#include <string.h>

#include "file.h"
#include "http.h"
#include "../core/workload.h"

static const struct workload *const workload_table[] = {
    &workload_sleep,
    &workload_file,
    &workload_http,
    NULL,
};

const struct workload *const *workload_list(void)
{
	return workload_table;
}

const struct workload *workload_find(const char *name)
{
	for (size_t i = 0; workload_table[i] != NULL; i++) {
		if (strcmp(workload_table[i]->name, name) == 0)
			return workload_table[i];
	}
	return NULL;
}
