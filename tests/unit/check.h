/*
 * check.h: the unit tests' tiny harness. A test file defines test
 * functions with TEST(name), lists them in main with RUN(name), and ends
 * with CHECK_DONE(). A failed CHECK prints file:line and the expression
 * and marks the test failed; the program exits non-zero if any failed and
 * prints "N passed, N failed".
 */
#ifndef VKC_CHECK_H
#define VKC_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failed_now;
static int check_passed, check_failed;

#define TEST(name) static void test_##name(void)
#define RUN(name) do {							\
	check_failed_now = 0;						\
	test_##name();							\
	if (check_failed_now) {						\
		check_failed++;						\
		printf("FAIL %s\n", #name);				\
	} else {							\
		check_passed++;						\
		printf("ok   %s\n", #name);				\
	}								\
} while (0)
#define CHECK(expr) do {						\
	if (!(expr)) {							\
		printf("%s:%d: check failed: %s\n", __FILE__, __LINE__,	\
		    #expr);						\
		check_failed_now = 1;					\
	}								\
} while (0)
#define CHECK_INT(a, b) do {						\
	long long check_a_ = (long long)(a), check_b_ = (long long)(b);	\
	if (check_a_ != check_b_) {					\
		printf("%s:%d: %s == %lld, want %lld\n", __FILE__,	\
		    __LINE__, #a, check_a_, check_b_);			\
		check_failed_now = 1;					\
	}								\
} while (0)
#define CHECK_STR(a, b) do {						\
	const char *check_a_ = (a), *check_b_ = (b);			\
	if (check_a_ == NULL || check_b_ == NULL ?			\
	    check_a_ != check_b_ : strcmp(check_a_, check_b_) != 0) {	\
		printf("%s:%d: %s == \"%s\", want \"%s\"\n", __FILE__,	\
		    __LINE__, #a, check_a_ ? check_a_ : "(null)",	\
		    check_b_ ? check_b_ : "(null)");			\
		check_failed_now = 1;					\
	}								\
} while (0)
#define CHECK_DONE() do {						\
	printf("%d passed, %d failed\n", check_passed, check_failed);	\
	return check_failed ? 1 : 0;					\
} while (0)

#endif
