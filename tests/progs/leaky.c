/*
 * leaky.c - the demo program: a small parser that leaks.
 * Known heap: 100 nodes of 48 bytes kept in a list and never freed (one
 * site), 10 buffers of 1000 bytes leaked at another site, and 1000
 * temporary 64-byte strings freed at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct node {
	struct node *next;
	char name[40];
};

static struct node *make_node(struct node *next, int i)
{
	struct node *n = malloc(sizeof(*n));

	n->next = next;
	snprintf(n->name, sizeof(n->name), "node-%d", i);
	return n;
}

static void leak_buffers(void)
{
	for (int i = 0; i < 10; i++) {
		char *buf = malloc(1000);

		memset(buf, 'x', 1000);
	}
}

static void churn(void)
{
	for (int i = 0; i < 1000; i++) {
		char *tmp = malloc(64);

		memset(tmp, 0, 64);
		free(tmp);
	}
}

int main(void)
{
	struct node *list = NULL;

	for (int i = 0; i < 100; i++)
		list = make_node(list, i);
	leak_buffers();
	churn();
	fprintf(stderr, "leaky: built %s..%s\n", list->name, "node-0");
	return 0;
}
