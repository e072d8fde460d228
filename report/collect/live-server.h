/*
 * live-server.h - the run's half of the dashboards' channel
 * (profile/live-channel.h): heapwise run listens, and answers from its
 * replay loop without ever blocking it.
 */
#ifndef HEAPWISE_LIVE_SERVER_H
#define HEAPWISE_LIVE_SERVER_H

#include "../profile/live-channel.h"
#include "../profile/profile.h"

struct collector;

struct live_server;

/*
 * Listen for dashboards on the socket of this process. Returns 0, or
 * -errno with err filled (the caller may go on without one).
 */
int live_server_new(struct live_server **out, char err[PROFILE_ERRLEN]);
void live_server_free(struct live_server *s);

/* A dashboard already connected (one end of a socketpair); s owns fd. */
int live_server_add(struct live_server *s, int fd);

/* Information sent with every profile (as its meta): "command", "output",
 * "profile". value is copied. */
void live_server_set(struct live_server *s, const char *key, const char *value);

/* One more meta pair, beside any of the same key ("alloc-fn" patterns),
 * room permitting (LIVE_META_MAX pairs in all). */
void live_server_add_meta(struct live_server *s, const char *key, const char *value);

/*
 * Take in new dashboards and answer what they asked, without blocking
 * (a snapshot or scan asked for is taken here, on the caller's thread,
 * which must be the one that started the program). Cheap when nothing
 * happened: call it from the replay loop.
 */
void live_server_poll(struct live_server *s, struct collector *c);

/* The program ended (collector_finish was called): send every dashboard
 * the final profile, with its exit status. */
void live_server_program_ended(struct live_server *s, struct collector *c);

/* The profile file was written to path (or, ok clear, could not be:
 * path is then the reason); tell the dashboards and let them go. */
void live_server_profile_written(struct live_server *s, int ok, const char *path);

#endif
