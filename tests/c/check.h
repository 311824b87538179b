/* CHECK(cond, fmt, ...): report a failed check and go on; the program
 * exits non-zero at the end when any failed (see FINISH). */
#ifndef KAFKA_INSTANCE_TEST_CHECK_H
#define KAFKA_INSTANCE_TEST_CHECK_H

#include <stdio.h>

static int failures = 0;

#define CHECK(cond, ...)                                  \
  do {                                                    \
    if (!(cond)) {                                        \
      fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
      fprintf(stderr, __VA_ARGS__);                       \
      fprintf(stderr, "\n");                              \
      failures++;                                         \
    }                                                     \
  } while (0)

/* Ends main: non-zero when any check failed. */
#define FINISH(name)                                      \
  do {                                                    \
    if (failures) {                                       \
      fprintf(stderr, "%d check(s) failed\n", failures);  \
      return 1;                                           \
    }                                                     \
    printf("%s: all checks passed\n", name);              \
    return 0;                                             \
  } while (0)

#endif
