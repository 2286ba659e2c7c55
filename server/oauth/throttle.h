/*
 * throttle.h — slow down guessing of client credentials.
 *
 * Failed client authentications are counted per (client_id, source address).
 * From the third failure on, further attempts from that pair are refused
 * without checking the credential for a window that doubles with each
 * failure (0.25 s, 0.5 s, 1 s ... at most 60 s); a success clears the count.
 * Keying on the source address too means that an attacker cannot lock a
 * client out from elsewhere. Refusing (with Retry-After) instead of sleeping
 * keeps the worker threads free. A fixed-size table: memory is bounded
 * whatever the traffic; old entries are overwritten.
 */
#ifndef JGD_THROTTLE_H
#define JGD_THROTTLE_H

typedef struct throttle throttle;

throttle *throttle_new(void);
void throttle_free(throttle *t);
/* Seconds to wait before the next attempt may be checked (0: go ahead). */
double throttle_blocked(throttle *t, const char *client_id, const char *ip, double now);
void throttle_failure(throttle *t, const char *client_id, const char *ip, double now);
void throttle_success(throttle *t, const char *client_id, const char *ip);

#endif
