/*
 * launch.h - how `heapwise run` starts the program it traces, and keeps
 * out of its way: signals sent to heapwise by another process are passed
 * on, the program gets heapwise's descriptors (or, with a dashboard, not
 * the terminal) and the tracer in LD_PRELOAD.
 */
#ifndef HEAPWISE_LAUNCH_H
#define HEAPWISE_LAUNCH_H

#include <limits.h>
#include <signal.h>
#include <sys/types.h>

#include "run.h"

struct collector;
struct profile;

/* The program's pid while it runs, for the signal handler; 0 otherwise. */
extern volatile sig_atomic_t launch_child_pid;

/* Resolve prog as execvp would; returns 0 with path filled, or -errno. */
int launch_find_program(const char *prog, char path[PATH_MAX]);

/* 0, or EXIT_ERROR after saying why LD_PRELOAD cannot trace path: static,
 * 32-bit, set-user-ID or set-group-ID programs. Scripts are fine. */
int launch_check_program(const char *path);

/* The tracer: HEAPWISE_LIB, next to us (build tree), or installed. 0, or
 * EXIT_ERROR after saying it was not found. */
int launch_find_tracer(char path[PATH_MAX]);

/* Pass the signals someone sends heapwise on to the program (SIGWINCH
 * only with winch: a dashboard of ours owns the terminal's resizes), and
 * ignore SIGPIPE; launch_restore_signals puts the forwarded ones back
 * (SIGPIPE stays ignored in heapwise; the program gets its own). */
void launch_forward_signals(int winch);
void launch_restore_signals(void);

/* Where the program's output goes when it must not reach our dashboard's
 * terminal: --program-output, or heapwise.PROGRAM.PID.out. */
void launch_output_path(const struct run_options *o, const char *path, pid_t pid, char out[PATH_MAX]);

/* In the child: become the traced program. Never returns; on failure it
 * writes the errno (negative: the output file) to report_fd and exits. */
void launch_exec(struct collector *c, const struct run_options *o, const char *tracer, const char *path,
		 char **argv, int report_fd) __attribute__((noreturn));

/* The words of argv joined by spaces, cut to fit. */
void launch_command_line(char **argv, int argc, char *buf, size_t size);

/* The profile's facts about the launch: command, program, cwd, host, time. */
void launch_set_meta(struct profile *p, char **argv, int argc, const char *path);

#endif
