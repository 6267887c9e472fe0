/* registry.c - the list of strategies, looked up by name. Add a strategy here and nowhere else. */
#include <stddef.h>
#include <string.h>

#include "../bench/core/strategy.h"

/* clang-format off */
static const struct strategy *const strategy_table[] = {
	&strategy_blocking,
	&strategy_processes,
	&strategy_threads,
	&strategy_pool,
	&strategy_prefork,
	&strategy_epoll,
	&strategy_poll,
	&strategy_coroutines,
	&strategy_uring,
	&strategy_libuv,
	NULL,
};
/* clang-format on */

const struct strategy *const *strategy_list(void)
{
	return strategy_table;
}

const struct strategy *strategy_find(const char *name)
{
	for (size_t i = 0; strategy_table[i] != NULL; i++) {
		if (strcmp(strategy_table[i]->name, name) == 0)
			return strategy_table[i];
	}
	return NULL;
}
