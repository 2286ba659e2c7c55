/*
 * net.h — addresses and the real client address behind trusted proxies.
 *
 * jwtgated usually sits behind a reverse proxy (nginx), so the TCP peer of
 * most requests is the proxy. Anything kept per client address (failed
 * authentication throttling, the access log) must use the client's own
 * address, which the proxy appends to X-Forwarded-For (or Forwarded, RFC
 * 7239). That header is trusted only when the peer is one of the configured
 * trusted proxies (--trusted-proxy CIDR); otherwise anyone could name any
 * address. The walk is nginx's real_ip_recursive: from the right-most entry
 * leftwards, skipping entries that are themselves trusted proxies; the first
 * untrusted entry is the client. An entry that is not an address stops the
 * walk at the last good one, so a client cannot hide behind garbage.
 *
 * Pure functions over caller memory; thread-safe.
 */
#ifndef JGD_NET_H
#define JGD_NET_H

#include <stddef.h>
#include <stdint.h>

struct sockaddr;

/* An IPv4 or IPv6 address, IPv4 held as IPv4-mapped IPv6 (::ffff:a.b.c.d). */
typedef struct net_addr {
    uint8_t b[16];
} net_addr;

typedef struct net_cidr {
    net_addr addr;
    unsigned bits; /* prefix length over the 128-bit form */
} net_cidr;

#define NET_MAX_CIDRS 32

typedef struct net_cidrs {
    net_cidr v[NET_MAX_CIDRS];
    size_t n;
} net_cidrs;

/* Parse "a.b.c.d", "a.b.c.d/n", an IPv6 address or "addr6/n". 0 or -1. */
int net_parse_cidr(const char *s, net_cidr *out);
/* Parse one address (no prefix); surrounding spaces and tabs allowed, an
 * IPv6 address may be in brackets, an IPv4 one may carry ":port". 0 or -1. */
int net_parse_addr(const char *s, size_t len, net_addr *out);
/* The address of a socket address (AF_INET or AF_INET6). 0 or -1. */
int net_from_sockaddr(const struct sockaddr *sa, net_addr *out);
int net_match(const net_cidrs *set, const net_addr *a);
/* Text form: dotted quad for IPv4, RFC 5952 for IPv6. */
void net_format(const net_addr *a, char *out, size_t len);

typedef enum net_header { NET_X_FORWARDED_FOR = 0, NET_FORWARDED } net_header;

/*
 * The client address of a request from `peer`: `peer` itself unless it is a
 * trusted proxy, else the walk described above over `header_value` (all
 * lines of the header joined with ","; NULL when absent) in the syntax of
 * `kind` (X-Forwarded-For: addresses; Forwarded: "for=" parameters).
 */
net_addr net_real_client(const net_cidrs *trusted, const net_addr *peer, net_header kind,
                         const char *header_value);

#endif
