/* version.h - the program's version, and the commit it was built from (set by the Makefile). */
#ifndef IOSTRAT_VERSION_H
#define IOSTRAT_VERSION_H

#define IOSTRAT_VERSION "0.1.0"

#ifndef IOSTRAT_COMMIT
#define IOSTRAT_COMMIT "unknown"
#endif

/* The compiler that built it. */
#if defined(__clang__)
#define IOSTRAT_COMPILER "clang " __clang_version__
#elif defined(__GNUC__)
#define IOSTRAT_COMPILER "gcc " __VERSION__
#else
#define IOSTRAT_COMPILER "unknown"
#endif

/* The liburing this build links, or NULL for a build without it. */
#ifndef IOSTRAT_LIBURING_VERSION
#define IOSTRAT_LIBURING_VERSION NULL
#endif

/* The libuv this build links, or NULL for a build without it. */
#ifndef IOSTRAT_LIBUV_VERSION
#define IOSTRAT_LIBUV_VERSION NULL
#endif

#endif
