/* test_conffile.c — jwtgated --config FILE (server/core/conffile.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "server/core/conffile.h"

static char conf_path[64];

static void write_conf(const char *text)
{
    snprintf(conf_path, sizeof conf_path, "/tmp/jgd_confXXXXXX");
    int fd = mkstemp(conf_path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

/* Expand `args` (NULL-terminated) and compare with `want` joined by ' '. */
static void expect(const char *const *args, const char *want)
{
    char *argv[32];
    int argc = 0;
    while (args[argc] != NULL) {
        argv[argc] = (char *)args[argc];
        argc++;
    }
    argv[argc] = NULL;
    int xargc = 0;
    char **xargv = NULL;
    char why[256] = "";
    assert_int_equal(conffile_expand(argc, argv, &xargc, &xargv, why, sizeof why), 0);
    char got[1024] = "";
    size_t used = 0;
    for (int i = 0; i < xargc && used < sizeof got; i++)
        used += (size_t)snprintf(got + used, sizeof got - used, "%s%s", i > 0 ? " " : "", xargv[i]);
    assert_null(xargv[xargc]);
    assert_string_equal(got, want);
    conffile_free(xargc, xargv);
}

static void expect_error(const char *const *args, const char *fragment)
{
    char *argv[32];
    int argc = 0;
    while (args[argc] != NULL) {
        argv[argc] = (char *)args[argc];
        argc++;
    }
    int xargc = 0;
    char **xargv = NULL;
    char why[256] = "";
    assert_int_equal(conffile_expand(argc, argv, &xargc, &xargv, why, sizeof why), -1);
    if (strstr(why, fragment) == NULL)
        fail_msg("\"%s\" not in \"%s\"", fragment, why);
}

static void test_without_config(void **state)
{
    (void)state;
    const char *args[] = {"jwtgated", "serve", "--port", "9000", NULL};
    expect(args, "jwtgated serve --port 9000");
}

static void test_file_then_command_line(void **state)
{
    (void)state;
    write_conf("# jwtgated.conf\n"
               "\n"
               "data-dir = /var/lib/jwtgated\n"
               "  port=8080  \n"
               "issuer = \"https://auth.example.com\"\n"
               "access-log = yes\n"
               "trusted-proxy = 127.0.0.1/32\n"
               "trusted-proxy = ::1/128\n"
               "snapshot-mode = 0640\r\n");
    const char *a1[] = {"jwtgated", "serve", "--config", conf_path, "--port", "9000", NULL};
    expect(a1, "jwtgated serve --data-dir /var/lib/jwtgated --port 8080 --issuer "
               "https://auth.example.com --access-log --trusted-proxy 127.0.0.1/32 "
               "--trusted-proxy ::1/128 --snapshot-mode 0640 --port 9000");
    /* A repeatable option on the command line replaces the file's. */
    const char *a2[] = {"jwtgated", "serve", "--trusted-proxy", "10.0.0.0/8", "--config",
                        conf_path,  NULL};
    expect(a2, "jwtgated serve --data-dir /var/lib/jwtgated --port 8080 --issuer "
               "https://auth.example.com --access-log --snapshot-mode 0640 --trusted-proxy "
               "10.0.0.0/8");
    unlink(conf_path);
}

static void test_flags(void **state)
{
    (void)state;
    write_conf("access-log = off\n");
    const char *a[] = {"jwtgated", "serve", "--config", conf_path, NULL};
    expect(a, "jwtgated serve");
    unlink(conf_path);
    write_conf("access-log = maybe\n");
    expect_error(a, ":1: access-log: true or false");
    unlink(conf_path);
}

static void test_errors(void **state)
{
    (void)state;
    const char *missing[] = {"jwtgated", "serve", "--config", "/nonexistent/jwtgated.conf", NULL};
    expect_error(missing, "/nonexistent/jwtgated.conf: No such file");
    const char *novalue[] = {"jwtgated", "serve", "--config", NULL};
    expect_error(novalue, "--config: missing FILE");

    write_conf("port = 1\nlisten\n");
    const char *a[] = {"jwtgated", "serve", "--config", conf_path, NULL};
    expect_error(a, ":2: expected key = value");
    unlink(conf_path);
    write_conf("# ok\nprot = 1\n");
    expect_error(a, ":2: unknown key \"prot\"");
    unlink(conf_path);
    write_conf("config = /etc/other.conf\n");
    expect_error(a, "no config in a config file");
    unlink(conf_path);
    write_conf("test-clock-file = /tmp/offset\n");
    expect_error(a, "for tests, command line only");
    unlink(conf_path);
    write_conf("issuer =\n");
    expect_error(a, ":1: issuer: missing value");
    const char *twice[] = {"jwtgated", "serve", "--config", conf_path, "--config", conf_path, NULL};
    expect_error(twice, "given twice");
    unlink(conf_path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_without_config),
        cmocka_unit_test(test_file_then_command_line),
        cmocka_unit_test(test_flags),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
