// SPDX-License-Identifier: Apache-2.0
// Differential test: _exit(9) discards unflushed stdio output; only raw write(2) data reaches stdout
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
	const char *raw = "raw write reaches stdout\n";
	printf("this line stays in the stdio buffer and is lost\n");
	if (write(1, raw, strlen(raw)) < 0)
		return 1;
	_exit(9);
}
