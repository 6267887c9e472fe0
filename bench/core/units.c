/* units.c - strict parsing of counts, durations and sizes. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "units.h"

bool units_parse_long(const char *text, long min, long max, long *out)
{
	char *end;

	/* decimal digits, perhaps after a minus: strtol would also take "+5", " 5" */
	if (text == NULL || !isdigit((unsigned char)text[text[0] == '-']))
		return false;
	errno = 0;
	long value = strtol(text, &end, 10);
	if (errno != 0 || *end != '\0' || value < min || value > max)
		return false;
	*out = value;
	return true;
}

bool units_parse_u64(const char *text, uint64_t *out)
{
	char *end;

	if (text == NULL || !isdigit((unsigned char)*text))
		return false;
	errno = 0;
	unsigned long long value = strtoull(text, &end, 10);
	if (errno != 0 || *end != '\0')
		return false;
	*out = value;
	return true;
}

/* A non-negative decimal number (digits, one optional point and digits, an
 * optional e exponent) followed by a suffix; returns the suffix, or NULL.
 * strtod alone would take hex ("0x10", "0x1p3"), "inf" and "nan". */
static const char *parse_number(const char *text, double *out)
{
	const char *p = text;
	char *end;

	if (text == NULL)
		return NULL;
	size_t digits = strspn(p, "0123456789");
	p += digits;
	if (*p == '.') {
		size_t fraction = strspn(p + 1, "0123456789");
		digits += fraction;
		p += 1 + fraction;
	}
	if (digits == 0)
		return NULL;
	if ((*p == 'e' || *p == 'E') && isdigit((unsigned char)p[1 + (p[1] == '-' ||
								      p[1] == '+')]))
		p += 1 + (p[1] == '-' || p[1] == '+');
	p += strspn(p, "0123456789");
	errno = 0;
	double value = strtod(text, &end);
	if (errno != 0 || end != p || !isfinite(value) || value < 0)
		return NULL;
	*out = value;
	return end;
}

bool units_parse_duration(const char *text, int64_t *out_ns)
{
	static const struct {
		const char *suffix;
		double ns;
	} units[] = {
	    {"", 1e9}, {"s", 1e9}, {"ms", 1e6}, {"us", 1e3}, {"ns", 1}, {"m", 60e9},
	};
	double value;
	const char *suffix = parse_number(text, &value);

	if (suffix == NULL)
		return false;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(suffix, units[i].suffix) == 0) {
			double ns = value * units[i].ns;
			if (ns > 1e18)
				return false;
			*out_ns = (int64_t)llround(ns);
			return true;
		}
	}
	return false;
}

bool units_parse_size(const char *text, uint64_t *out_bytes)
{
	static const struct {
		const char *suffix;
		double bytes;
	} units[] = {
	    {"", 1},
	    {"b", 1},
	    {"k", 1024.0},
	    {"kib", 1024.0},
	    {"m", 1048576.0},
	    {"mib", 1048576.0},
	    {"g", 1073741824.0},
	    {"gib", 1073741824.0},
	    {"t", 1099511627776.0},
	    {"tib", 1099511627776.0},
	};
	double value;
	const char *suffix = parse_number(text, &value);

	if (suffix == NULL)
		return false;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcasecmp(suffix, units[i].suffix) == 0) {
			double bytes = value * units[i].bytes;
			if (bytes > 9e18 || bytes != floor(bytes))
				return false;
			*out_bytes = (uint64_t)bytes;
			return true;
		}
	}
	return false;
}

void units_format_duration(int64_t ns, char *buf, unsigned long len)
{
	if (ns >= 1000000000 || ns == 0)
		snprintf(buf, len, "%g s", (double)ns / 1e9);
	else if (ns >= 1000000)
		snprintf(buf, len, "%g ms", (double)ns / 1e6);
	else if (ns >= 1000)
		snprintf(buf, len, "%g us", (double)ns / 1e3);
	else
		snprintf(buf, len, "%lld ns", (long long)ns);
}
