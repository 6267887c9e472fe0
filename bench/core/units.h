/* units.h - parsing the command line's numbers: counts, durations and sizes, strictly (a
 * trailing word, a sign or an overflow is an error, never a silent zero). */
#ifndef IOSTRAT_UNITS_H
#define IOSTRAT_UNITS_H

#include <stdbool.h>
#include <stdint.h>

/* A whole number from min to max. */
bool units_parse_long(const char *text, long min, long max, long *out);
/* A whole number from 0 to 2^64-1, decimal. */
bool units_parse_u64(const char *text, uint64_t *out);
/* Durations and sizes are decimal only: "0x10" is refused, not 16.
 * "1.5", "1.5s", "250ms", "100us", "20ns": nanoseconds, at least 0. */
bool units_parse_duration(const char *text, int64_t *out_ns);
/* "4096", "4K", "16M", "1G" (powers of 1024; "KiB", "k" also accepted): bytes. */
bool units_parse_size(const char *text, uint64_t *out_bytes);
/* "1.5 s", "250 ms", "100 us": for messages. */
void units_format_duration(int64_t ns, char *buf, unsigned long len);

#endif
