/* json-get.c - prints values from a JSON document for the shell tests
 * (jansson): json-get FILE summary.wall_s     one value json-get FILE tasks.#
 * the length of an array or object json-get FILE tasks.*.pid        the value
 * in every element, one a line Strings print without quotes, null as "null".
 * Exits 1 when the path is not there, 2 when the file does not parse. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

static int print_value(const json_t *value)
{
	if (json_is_string(value)) {
		printf("%s\n", json_string_value(value));
	} else {
		char *text = json_dumps(value, JSON_ENCODE_ANY | JSON_COMPACT |
						   JSON_REAL_PRECISION(12));
		if (text == NULL)
			return 1;
		printf("%s\n", text);
		free(text);
	}
	return 0;
}

static int walk(const json_t *node, char *path)
{
	if (path == NULL || *path == '\0')
		return print_value(node);
	char *rest = strchr(path, '.');
	if (rest != NULL)
		*rest++ = '\0';
	if (strcmp(path, "#") == 0) {
		size_t size = json_is_array(node) ? json_array_size(node)
						  : json_object_size(node);
		printf("%zu\n", size);
		return 0;
	}
	if (strcmp(path, "*") == 0 && json_is_array(node)) {
		size_t i;
		const json_t *item;
		json_array_foreach(node, i, item)
		{
			char *copy = rest != NULL ? strdup(rest) : NULL;
			int bad = walk(item, copy);
			free(copy);
			if (bad)
				return bad;
		}
		return 0;
	}
	const json_t *next = NULL;
	if (json_is_object(node)) {
		next = json_object_get(node, path);
	} else if (json_is_array(node)) {
		char *end;
		long index = strtol(path, &end, 10);
		if (*end == '\0' && index >= 0)
			next = json_array_get(node, (size_t)index);
	}
	if (next == NULL) {
		fprintf(stderr, "json-get: no '%s' here\n", path);
		return 1;
	}
	return walk(next, rest);
}

int main(int argc, char **argv)
{
	json_error_t error;

	if (argc != 3) {
		fprintf(stderr, "Usage: json-get FILE PATH\n");
		return 2;
	}
	json_t *doc = json_load_file(argv[1], JSON_DECODE_ANY, &error);
	if (doc == NULL) {
		fprintf(stderr, "json-get: %s:%d: %s\n", argv[1], error.line,
			error.text);
		return 2;
	}
	int status = walk(doc, argv[2]);
	json_decref(doc);
	return status;
}
