/* kubectl-vkc.c: the kubectl plugin (not written yet). */
#include <stdio.h>

int
main(void)
{
	fprintf(stderr, "kubectl-vkc: not implemented yet\n");
	return 1;
}
