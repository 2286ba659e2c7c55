"""Where the binaries are and how their children run: read once from the
environment that CTest sets (tests/lib/testenv.cmake is the one place that
names them), with fall-backs for a hand run.

  JWTGATED        jwtgated                   (default: $JG_BUILD_DIR/server/jwtgated, else PATH)
  JWTGATE_CLI     the jwtgate tool           (default: $JG_BUILD_DIR/jwtgate, else PATH)
  JG_NGX_MODULE   ngx_http_jwtgate_module.so (default: $JG_BUILD_DIR/nginx/...; '' if none)
  NGINX           the nginx binary           (default: /usr/sbin/nginx)
  JG_TEST_DIR     scratch directory of a suite (default: the system's temporary directory)
  JG_SANITIZE     ON in a JG_SANITIZE build (CTest sets it; informative: the sanitizer
                  runtime itself is found in the binaries, see sanitizer_runtime())
  ASAN_OPTIONS, UBSAN_OPTIONS
                  the sanitizer options of a JG_SANITIZE build (CTest sets them for
                  every test); children inherit them, nginx with leak detection off

Everything is read at import time into module attributes, so a caller that must
point elsewhere sets the environment before importing the package.
"""
import os
import subprocess
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
#: the repository root (tests/lib/jgtest/../../..)
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
#: a build directory to take the binaries from when their own variables are unset
BUILD_DIR = os.path.abspath(os.environ['JG_BUILD_DIR']) if os.environ.get('JG_BUILD_DIR') else ''

#: seconds a service may take to come up (sanitizer builds start slowly)
STARTUP_TIMEOUT = 30.0
#: seconds a service may take to stop before it is killed
STOP_TIMEOUT = 20.0
#: default timeout of one HTTP request, seconds
REQUEST_TIMEOUT = 30.0


def _binary(var, rel, default):
    value = os.environ.get(var)
    if value:
        # nginx resolves a relative load_module path against its prefix
        return os.path.abspath(value) if os.sep in value else value
    if BUILD_DIR and os.path.exists(os.path.join(BUILD_DIR, rel)):
        return os.path.join(BUILD_DIR, rel)
    return default


JWTGATED = _binary('JWTGATED', os.path.join('server', 'jwtgated'), 'jwtgated')
JWTGATE_CLI = _binary('JWTGATE_CLI', 'jwtgate', 'jwtgate')
NGX_MODULE = _binary('JG_NGX_MODULE', os.path.join('nginx', 'ngx_http_jwtgate_module.so'), '')
NGINX = os.environ.get('NGINX', '/usr/sbin/nginx')
TEST_DIR = os.path.abspath(os.environ.get('JG_TEST_DIR') or tempfile.gettempdir())
SANITIZE = os.environ.get('JG_SANITIZE', '').upper() in ('1', 'ON', 'YES', 'TRUE')


def scratch(prefix):
    """A new private directory under TEST_DIR (the caller removes it)."""
    os.makedirs(TEST_DIR, exist_ok=True)
    return tempfile.mkdtemp(prefix=prefix, dir=TEST_DIR)


def sanitizer_runtime(binary=None):
    """The ASan runtime that `binary` (default: the nginx module) links, or None for a
    build without sanitizers. A program that dlopen()s a sanitized object (nginx loading
    the module) must preload this runtime."""
    binary = binary or NGX_MODULE
    if not binary or not os.path.exists(binary):
        return None
    out = subprocess.run(['ldd', binary], capture_output=True, text=True).stdout
    for line in out.splitlines():
        if 'libasan' in line and '=>' in line:
            return line.split('=>')[1].split('(')[0].strip()
    return None


def with_option(options, name, value):
    """`options` (a sanitizer's a=1:b=2 string) with `name` set to `value`."""
    kept = [o for o in (options or '').split(':') if o and o.split('=', 1)[0] != name]
    return ':'.join(kept + ['%s=%s' % (name, value)])


def child_env(leaks=True, preload=None, extra=None):
    """The environment of a child process: ours (so the sanitizer options CTest set),
    with LeakSanitizer off when `leaks` is false (nginx does not free everything at
    exit: leaks are the unit tests' business, memory errors stay fatal), the sanitizer
    runtime preloaded when `preload` names one, and `extra` on top."""
    env = dict(os.environ)
    if not leaks:
        env['ASAN_OPTIONS'] = with_option(env.get('ASAN_OPTIONS'), 'detect_leaks', '0')
    if preload:
        env['LD_PRELOAD'] = preload
    env.update(extra or {})
    return env
