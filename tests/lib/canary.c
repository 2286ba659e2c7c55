/*
 * canary.c — a program that fails on purpose, so that the test harness's
 * crash and sanitizer detection (tests/lib/jgtest/procs.py) is itself tested
 * against the real thing: the sanitizer runtime and options of this build.
 *
 *   jg_canary ok     prints "ok", exits 0
 *   jg_canary segv   dies of SIGSEGV
 *   jg_canary uaf    reads freed memory  (ASan: heap-use-after-free)
 *   jg_canary ub     overflows a signed int  (UBSan: runtime error)
 *   jg_canary leak   loses a block  (LeakSanitizer, at exit)
 *
 * The three bugs are reported only in a JG_SANITIZE build; the tests ask for
 * them only there. volatile keeps the compiler from seeing through them.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *volatile lost;

int main(int argc, char **argv)
{
    const char *what = argc > 1 ? argv[1] : "ok";
    if (strcmp(what, "ok") == 0) {
        puts("ok");
        return 0;
    }
    if (strcmp(what, "segv") == 0) {
        raise(SIGSEGV);
        return 1;
    }
    if (strcmp(what, "uaf") == 0) {
        char *volatile p = malloc(16);
        if (p == NULL)
            return 1;
        memset(p, 'x', 16);
        free(p);
        return p[3] == 'x' ? 3 : 4;
    }
    if (strcmp(what, "ub") == 0) {
        volatile int big = 2147483647;
        volatile int one = argc > 0 ? 1 : 0;
        int sum = big + one;
        printf("%d\n", sum);
        return 0;
    }
    if (strcmp(what, "leak") == 0) {
        lost = malloc(64);
        if (lost == NULL)
            return 1;
        memset(lost, 1, 64);
        lost = NULL;
        return 0;
    }
    fprintf(stderr, "usage: jg_canary ok|segv|uaf|ub|leak\n");
    return 2;
}
