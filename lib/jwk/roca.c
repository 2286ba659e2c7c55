/*
 * roca.c — the ROCA fingerprint (CVE-2017-15361; Nemec, Sys, Svenda,
 * Klinec, Matyas, "The Return of Coppersmith's Attack", ACM CCS 2017).
 *
 * Infineon's RSA library made every prime as p = k * M + (65537^a mod M),
 * with M the product of the first primes (a primorial). Modulo any small
 * prime r dividing M, each such prime, and so the modulus n = p * q, is then
 * a power of 65537: n mod r lies in the subgroup of (Z/rZ)* that 65537
 * generates. The public detector tests this for every odd prime up to 167
 * (all of them divide M for every key size the library produced). A random
 * modulus passes all 38 tests with probability about 2^-154 (the subgroups
 * are small: modulo 11, {1, 10}), so a hit means the key came from that
 * generator and can be factored with Coppersmith's method.
 *
 * Cost: n is reduced once per run of primes whose product fits in a word
 * (BN_mod_word), and the subgroup membership is a walk over at most r - 1
 * powers; most moduli fail within the first few primes.
 */
#include <openssl/bn.h>

#include "jwk/jwk_internal.h"

/* The odd primes up to 167. */
static const unsigned char fingerprint_primes[] = {
    3,  5,  7,  11, 13, 17,  19,  23,  29,  31,  37,  41,  43,  47,  53,  59,  61,  67,  71,
    73, 79, 83, 89, 97, 101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167};

/* Whether x is a power of 65537 modulo the prime r. */
static int power_of_65537(unsigned x, unsigned r)
{
    unsigned g = 65537u % r, y = 1;
    do {
        if (y == x)
            return 1;
        y = y * g % r;
    } while (y != 1);
    return 0;
}

int jg__roca_fingerprint(const BIGNUM *n)
{
    const size_t count = sizeof fingerprint_primes;
    size_t i = 0;
    while (i < count) {
        /* The next run of primes whose product fits in a BN_ULONG. */
        BN_ULONG prod = 1;
        size_t end = i;
        while (end < count && prod <= (BN_ULONG)-1 / fingerprint_primes[end])
            prod *= fingerprint_primes[end++];
        BN_ULONG rem = BN_mod_word(n, prod);
        if (rem == (BN_ULONG)-1)
            return -1;
        for (; i < end; i++) {
            unsigned r = fingerprint_primes[i];
            if (!power_of_65537((unsigned)(rem % r), r))
                return 0; /* not of that form: almost every modulus stops here early */
        }
    }
    return 1;
}
