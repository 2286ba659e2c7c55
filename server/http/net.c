/* net.c — address parsing, CIDR matching, the real client address (see net.h). */
#include "server/http/net.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

static void map_v4(const uint8_t v4[4], net_addr *out)
{
    memset(out->b, 0, 10);
    out->b[10] = out->b[11] = 0xff;
    memcpy(out->b + 12, v4, 4);
}

static int is_v4(const net_addr *a)
{
    static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return memcmp(a->b, prefix, 12) == 0;
}

int net_parse_addr(const char *s, size_t len, net_addr *out)
{
    while (len > 0 && (*s == ' ' || *s == '\t'))
        s++, len--;
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    char buf[64];
    if (len == 0 || len >= sizeof buf)
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *p = buf;
    if (*p == '[') { /* [v6] or [v6]:port */
        char *end = strchr(p, ']');
        if (end == NULL || (end[1] != '\0' && end[1] != ':'))
            return -1;
        *end = '\0';
        p++;
        struct in6_addr a6;
        if (inet_pton(AF_INET6, p, &a6) != 1)
            return -1;
        memcpy(out->b, &a6, 16);
        return 0;
    }
    struct in6_addr a6;
    if (strchr(p, ':') != NULL && inet_pton(AF_INET6, p, &a6) == 1) {
        memcpy(out->b, &a6, 16);
        return 0;
    }
    char *colon = strchr(p, ':'); /* a.b.c.d:port */
    if (colon != NULL) {
        if (colon[1] == '\0' || strspn(colon + 1, "0123456789") != strlen(colon + 1))
            return -1;
        *colon = '\0';
    }
    struct in_addr a4;
    if (inet_pton(AF_INET, p, &a4) != 1)
        return -1;
    map_v4((const uint8_t *)&a4, out);
    return 0;
}

int net_parse_cidr(const char *s, net_cidr *out)
{
    const char *slash = strchr(s, '/');
    size_t len = slash != NULL ? (size_t)(slash - s) : strlen(s);
    char buf[64];
    if (len == 0 || len >= sizeof buf)
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    struct in6_addr a6;
    struct in_addr a4;
    unsigned max;
    if (inet_pton(AF_INET6, buf, &a6) == 1) {
        memcpy(out->addr.b, &a6, 16);
        max = 128;
    } else if (inet_pton(AF_INET, buf, &a4) == 1) {
        map_v4((const uint8_t *)&a4, &out->addr);
        max = 32;
    } else {
        return -1;
    }
    unsigned bits = max;
    if (slash != NULL) {
        char *end = NULL;
        unsigned long n = strtoul(slash + 1, &end, 10);
        if (slash[1] < '0' || slash[1] > '9' || *end != '\0' || n > max)
            return -1;
        bits = (unsigned)n;
    }
    out->bits = max == 32 ? 96 + bits : bits;
    /* Clear the host bits, so that matching compares prefixes only. */
    for (unsigned i = out->bits; i < 128; i++)
        out->addr.b[i / 8] &= (uint8_t) ~(0x80u >> (i % 8));
    return 0;
}

int net_from_sockaddr(const struct sockaddr *sa, net_addr *out)
{
    if (sa == NULL)
        return -1;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)sa;
        map_v4((const uint8_t *)&sin->sin_addr, out);
        return 0;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)(const void *)sa;
        memcpy(out->b, &sin6->sin6_addr, 16);
        return 0;
    }
    return -1;
}

static int cidr_has(const net_cidr *c, const net_addr *a)
{
    unsigned full = c->bits / 8, rest = c->bits % 8;
    if (memcmp(c->addr.b, a->b, full) != 0)
        return 0;
    if (rest == 0)
        return 1;
    uint8_t mask = (uint8_t)(0xff00u >> rest);
    return (c->addr.b[full] & mask) == (a->b[full] & mask);
}

int net_match(const net_cidrs *set, const net_addr *a)
{
    for (size_t i = 0; set != NULL && i < set->n; i++)
        if (cidr_has(&set->v[i], a))
            return 1;
    return 0;
}

void net_format(const net_addr *a, char *out, size_t len)
{
    if (len == 0)
        return;
    if (is_v4(a)) {
        if (inet_ntop(AF_INET, a->b + 12, out, (socklen_t)len) == NULL)
            snprintf(out, len, "?");
    } else if (inet_ntop(AF_INET6, a->b, out, (socklen_t)len) == NULL) {
        snprintf(out, len, "?");
    }
}

/* The address named by one Forwarded element ("for=...;proto=..."). */
static int forwarded_for(const char *s, size_t len, net_addr *out)
{
    size_t i = 0;
    while (i < len) {
        size_t end = i;
        int quoted = 0;
        while (end < len && (quoted || s[end] != ';')) {
            if (s[end] == '"')
                quoted = !quoted;
            end++;
        }
        const char *pair = s + i;
        size_t plen = end - i;
        while (plen > 0 && (*pair == ' ' || *pair == '\t'))
            pair++, plen--;
        if (plen > 4 && strncasecmp(pair, "for=", 4) == 0) {
            const char *v = pair + 4;
            size_t vlen = plen - 4;
            while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
                vlen--;
            if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"')
                v++, vlen -= 2;
            return net_parse_addr(v, vlen, out);
        }
        i = end + 1;
    }
    return -1;
}

net_addr net_real_client(const net_cidrs *trusted, const net_addr *peer, net_header kind,
                         const char *header_value)
{
    net_addr client = *peer;
    if (header_value == NULL || !net_match(trusted, peer))
        return client;
    /* Right to left over the comma-separated entries (commas inside quotes
     * do not occur in addresses; a quoted comma just fails to parse). */
    size_t end = strlen(header_value);
    while (end > 0) {
        size_t start = end;
        while (start > 0 && header_value[start - 1] != ',')
            start--;
        net_addr hop;
        int ok = kind == NET_FORWARDED ? forwarded_for(header_value + start, end - start, &hop)
                                       : net_parse_addr(header_value + start, end - start, &hop);
        if (ok != 0)
            break; /* garbage: keep the last address we could trust */
        client = hop;
        if (!net_match(trusted, &hop))
            break;
        end = start > 0 ? start - 1 : 0;
    }
    return client;
}
