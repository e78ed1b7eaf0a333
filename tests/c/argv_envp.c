// SPDX-License-Identifier: Apache-2.0
// Differential test: argc/argv contents passed by the harness and environment visibility (getenv vs envp)
// variants: static static-pie
// args: first second --flag=value 42 ünïcødé
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

static const char *base(const char *s)
{
	const char *slash = strrchr(s, '/');
	return slash ? slash + 1 : s;
}

int main(int argc, char **argv, char **envp)
{
	printf("argc = %d\n", argc);
	printf("argv[0] basename = %s\n", base(argv[0]));
	for (int i = 1; i < argc; i++)
		printf("argv[%d] = \"%s\" (%zu bytes)\n", i, argv[i], strlen(argv[i]));
	printf("argv[argc] == NULL: %s\n", argv[argc] == NULL ? "yes" : "no");
	printf("program_invocation_short_name matches: %s\n",
	       strcmp(program_invocation_short_name, base(argv[0])) == 0 ? "yes" : "no");

	int n = 0, all_have_eq = 1;
	for (char **e = envp; *e; e++, n++)
		all_have_eq &= strchr(*e, '=') != NULL;
	printf("every envp entry has '=': %s\n", all_have_eq ? "yes" : "no");
	int m = 0;
	for (char **e = environ; *e; e++)
		m++;
	printf("environ and envp have the same length: %s\n", n == m ? "yes" : "no");

	const char *path = getenv("PATH");
	printf("PATH set: %s\n", path ? "yes" : "no");
	if (path) {
		/* getenv must return a pointer into the envp strings */
		int inside = 0;
		for (char **e = envp; *e; e++)
			if (path == *e + 5 && strncmp(*e, "PATH=", 5) == 0)
				inside = 1;
		printf("getenv(PATH) points into envp: %s\n", inside ? "yes" : "no");
	}
	printf("HOME set: %s\n", getenv("HOME") ? "yes" : "no");
	printf("RUNRS_SURELY_UNSET_VARIABLE set: %s\n", getenv("RUNRS_SURELY_UNSET_VARIABLE") ? "yes" : "no");

	/* environment manipulation is purely user space */
	setenv("RUNRS_TEST_VAR", "hello", 1);
	printf("after setenv: %s\n", getenv("RUNRS_TEST_VAR"));
	unsetenv("RUNRS_TEST_VAR");
	printf("after unsetenv: %s\n", getenv("RUNRS_TEST_VAR") ? "still set" : "unset");
	return 0;
}
