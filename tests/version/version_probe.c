/*
 * version_probe.c — prints the version the headers say (JG_VERSION_* of the
 * configured jwtgate/version.h) and the version of the library it runs
 * against (jg_version() of libjwtgate.so), for tests/version/test_version.py.
 */
#include <stdio.h>

#include <jwtgate/jwtgate.h>

int main(void)
{
    printf("header %s\n", JG_VERSION_STRING);
    printf("macros %d.%d.%d\n", JG_VERSION_MAJOR, JG_VERSION_MINOR, JG_VERSION_PATCH);
    printf("library %s\n", jg_version());
    return 0;
}
