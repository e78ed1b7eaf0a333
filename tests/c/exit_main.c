// SPDX-License-Identifier: Apache-2.0
// Differential test: return from main runs atexit handlers in reverse order, flushes stdio, status 3
#include <stdio.h>
#include <stdlib.h>

static void first(void)
{
	printf("atexit: registered first, runs last\n");
}

static void second(void)
{
	printf("atexit: registered second, runs first\n");
}

int main(void)
{
	if (atexit(first) != 0 || atexit(second) != 0) {
		printf("atexit failed\n");
		return 1;
	}
	/* Left in the stdio buffer on purpose: exit() must flush it. */
	printf("main returning 3\n");
	return 3;
}
