// SPDX-License-Identifier: Apache-2.0
// Differential test: right after fork, parent and child each write their stack and thread-local storage (which runrs copies for the child at fork): each sees only its own writes and the other's values from before the fork, from the main thread and from a second thread that forks
// variants: static static-pie
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static __thread int tvar = 5;
static __thread char tbuf[256] = "thread-local";

static int check(const char *who)
{
	char stack[20000];
	memset(stack, 'p', sizeof stack);
	tvar = 6;
	strcpy(tbuf, "before fork");
	int go[2], back[2];
	if (pipe(go) != 0 || pipe(back) != 0)
		return 2;
	pid_t pid = fork();
	if (pid == 0) {
		char c;
		/* Wait until the parent has written its own values. */
		if (read(go[0], &c, 1) != 1)
			_exit(3);
		int saw_old = stack[0] == 'p' && stack[sizeof stack - 1] == 'p' && tvar == 6 &&
			      strcmp(tbuf, "before fork") == 0;
		memset(stack, 'c', sizeof stack);
		tvar = 8;
		strcpy(tbuf, "child");
		int own = stack[100] == 'c' && tvar == 8 && strcmp(tbuf, "child") == 0;
		c = (char)(saw_old | own << 1);
		if (write(back[1], &c, 1) != 1)
			_exit(4);
		_exit(0);
	}
	memset(stack, 'P', sizeof stack);
	tvar = 7;
	strcpy(tbuf, "parent");
	char c = 'g';
	if (write(go[1], &c, 1) != 1 || read(back[0], &c, 1) != 1)
		return 2;
	int st;
	waitpid(pid, &st, 0);
	printf("%s: child saw the values from before the fork: %d, its own writes: %d, exit %d\n", who,
	       c & 1, (c >> 1) & 1, WEXITSTATUS(st));
	printf("%s: parent keeps its own: %d\n", who,
	       stack[0] == 'P' && stack[sizeof stack - 1] == 'P' && tvar == 7 && strcmp(tbuf, "parent") == 0);
	close(go[0]);
	close(go[1]);
	close(back[0]);
	close(back[1]);
	return 0;
}

static void *thread_main(void *arg)
{
	(void)arg;
	check("second thread");
	return NULL;
}

int main(void)
{
	check("main thread");
	pthread_t th;
	if (pthread_create(&th, NULL, thread_main, NULL) != 0)
		return 2;
	pthread_join(th, NULL);
	printf("main thread's thread-local after: %d %s\n", tvar, tbuf);
	return 0;
}
