/*
 * builtin.h - the heapwise commands.
 *
 * To add a command: write cmd/cmd-NAME.c with its usage text, option table
 * and cmd_NAME() last; add one line here and a row to commands[] in
 * main.c; write man/heapwise-NAME.1 with the same SYNOPSIS as the usage
 * text (tests/e2e/t0010-help.sh checks they agree); add a test under tests/.
 *
 * Each cmd_* returns the process exit status.
 */
#ifndef HEAPWISE_BUILTIN_H
#define HEAPWISE_BUILTIN_H

int cmd_run(int argc, char **argv);
int cmd_live(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_snapshot(int argc, char **argv);
int cmd_leaks(int argc, char **argv);
int cmd_refs(int argc, char **argv);
int cmd_export(int argc, char **argv);

#endif
