/*
 * run-children.h - `heapwise run --follow-fork`: the processes the program
 * forks (and what they exec), each traced by a collector of its own into
 * a profile of its own, FILE.PID beside the program's FILE, with its own
 * summary line and exit scan.
 */
#ifndef HEAPWISE_RUN_CHILDREN_H
#define HEAPWISE_RUN_CHILDREN_H

#include <sys/types.h>

#include "run.h"

struct collector;
struct run_children;

/* Follow the children of the program (pid, traced by first, whose profile
 * goes to output). Returns 0, or EXIT_ERROR after saying why not. */
int children_new(struct run_children **out, const struct run_options *o, struct collector *first,
		 pid_t pid, const char *output);

/* From the replay loop: answer the processes that ask for a region,
 * replay each child, and finish those that ended. Returns whether any
 * work was done. */
int children_poll(struct run_children *ch);

/* The program's collector is finishing: a child forked from now on
 * inherits nothing from it. */
void children_program_ended(struct run_children *ch);

/* After the program: wait for the children still traced and finish them. */
void children_wait(struct run_children *ch);

/* Was a child's profile lost (said)? */
int children_lost(const struct run_children *ch);

/* Did a child's exit scan find leaks of o->error_kinds? */
int children_leaked(const struct run_children *ch);

void children_free(struct run_children *ch);

#endif
