/*
 * selector.h - `FILE@SNAP`: a profile and one of its snapshots.
 *
 * SNAP is a snapshot's name (exit, peak, a label) or its number as
 * `heapwise stats` lists them (1 is the first). A bare FILE means
 * FILE@exit, or FILE@py-exit when the profile has one (a Python program's
 * heap before the interpreter freed its objects) and the command does not
 * want a reachability scan (py-exit has none). A FILE whose own name holds '@' still works: the whole
 * argument is tried as a file first. The profile is read lazily: only the
 * chosen snapshot's blocks are read (profile_load_snapshot reads others).
 */
#ifndef HEAPWISE_SELECTOR_H
#define HEAPWISE_SELECTOR_H

#include "../report/profile/profile.h"

/*
 * Read the profile that arg names into p and point *snap at the selected
 * snapshot; scanned: the command reads reachability (leaks, refs), else
 * no snapshot's scan is read (scan is NULL in all). Returns 0, or 1 after
 * printing an error (p is then released).
 */
int selector_open(const char *arg, struct profile *p, const struct profile_snapshot **snap, int scanned);

#endif
