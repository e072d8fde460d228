/*
 * proc.h - facts about another process from /proc: a field of its status,
 * its parent. Used to find the `heapwise run` a program runs under and to
 * see how a process is doing; the memory map is collect/procmaps.h.
 */
#ifndef HEAPWISE_PROC_H
#define HEAPWISE_PROC_H

#include <sys/types.h>

/* The number after "FIELD:" in /proc/PID/status ("Threads", "TracerPid"),
 * 0 when the process or the field is not there. */
long proc_status(pid_t pid, const char *field);

/* The parent of pid from /proc/PID/stat, 0 when it cannot be read. */
pid_t proc_parent(pid_t pid);

/* Has pid ended? 1 when it is gone or a zombie, with *wait_status the
 * status its parent collects (while a zombie) or -1 when that is gone;
 * 0 while it runs. */
int proc_ended(pid_t pid, int *wait_status);

#endif
