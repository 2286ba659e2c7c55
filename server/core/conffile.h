/*
 * conffile.h — jwtgated --config FILE: "key = value" lines, one per long
 * option (docs/jwtgated.md "Configuration file").
 *
 * The file is read into option words placed before the command line's, so
 * the command line wins: the option parser keeps the last value of a
 * single-valued option, and a repeatable option (trusted-proxy) given on
 * the command line replaces every one of the file's. Blank lines and lines
 * starting with '#' are skipped; the value may be quoted with "..."; a flag
 * (access-log) takes true/false, yes/no, on/off or 1/0. `config` itself is
 * not allowed in the file.
 */
#ifndef JGD_CONFFILE_H
#define JGD_CONFFILE_H

#include <stddef.h>

/* The new argument vector: argv[0], argv[1] (the command), the file's
 * options, then the command line's from argv[2] without "--config FILE".
 * Without --config, *out_argv is a copy of argv. The strings and the array
 * are freed together by conffile_free(). -1 with a message in `why`
 * (FILE:LINE: what) on an unreadable file, a bad line or a bad key. */
int conffile_expand(int argc, char **argv, int *out_argc, char ***out_argv, char *why,
                    size_t why_len);
void conffile_free(int argc, char **argv);

#endif
