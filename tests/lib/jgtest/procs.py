"""Child processes of the tests: started with their output in a log file,
waited for until ready, stopped by a signal (killed when they do not stop),
and their logs read for crashes and sanitizer reports."""
import os
import signal
import subprocess
import sys
import time

from . import config

#: what a crashed process or a sanitizer leaves in a log (nginx: "worker process
#: 123 exited on signal 11"; ASan, LSan, UBSan: their report headers)
CRASH_MARKERS = ('exited on signal', 'AddressSanitizer', 'LeakSanitizer', 'runtime error:',
                 'UndefinedBehaviorSanitizer')


def crash_lines(text):
    """The lines of `text` that tell of a crash or a sanitizer report."""
    return [line for line in text.splitlines() if any(m in line for m in CRASH_MARKERS)]


def read_text(*paths, offsets=None):
    """The concatenated text of the files that exist (undecodable bytes replaced), each
    from its offset in `offsets` (a dict by path) if given."""
    out = ''
    for p in paths:
        try:
            with open(p, 'rb') as f:
                f.seek((offsets or {}).get(p, 0))
                out += f.read().decode('utf-8', 'replace')
        except FileNotFoundError:
            pass
    return out


def sizes(*paths):
    """path -> current size (0 for a file not there yet)."""
    return {p: os.path.getsize(p) if os.path.exists(p) else 0 for p in paths}


def parents():
    """pid -> parent pid for every process (from /proc)."""
    out = {}
    for d in os.listdir('/proc'):
        if d.isdigit():
            try:
                with open('/proc/%s/stat' % d) as f:
                    fields = f.read().rsplit(')', 1)[1].split()
                out[int(d)] = int(fields[1])
            except (OSError, IndexError):
                pass
    return out


def children(pid):
    """The direct children of `pid`, sorted."""
    return sorted(p for p, pp in parents().items() if pp == pid)


def descendants(pid):
    """Every process whose ancestry includes `pid`."""
    parent = parents()
    out = set()
    for p in parent:
        q = p
        while q in parent and q > 1:
            q = parent[q]
            if q == pid:
                out.add(p)
                break
    return out


def wait_until(fn, timeout, step=0.02, what='condition'):
    """Poll fn() until it returns a true value (returned); raise TimeoutError after
    `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError('%s not within %.1f s' % (what, timeout))
        time.sleep(step)


class Service:
    """One child process whose standard output and error are appended to `log_path`.

    start() runs it; wait_ready(check) polls check() until true (RuntimeError with the
    log's tail if the process exits first or the time runs out); stop(sig) sends `sig`
    and waits, killing it after STOP_TIMEOUT; crashes() lists crash and sanitizer lines
    of its log (and of `other_logs`, files it writes itself)."""

    def __init__(self, name, argv, log_path, env=None, cwd=None, other_logs=(), **popen_kw):
        self.name = name
        self.popen_kw = popen_kw  # e.g. user=, group= (a root test runs a server as another)
        self.argv = [str(a) for a in argv]
        self.log_path = log_path
        self.other_logs = list(other_logs)
        self.env = env
        self.cwd = cwd
        self.proc = None
        self.returncode = None
        self.stop_timed_out = False
        self.offsets = {}

    @property
    def pid(self):
        return self.proc.pid if self.proc is not None else None

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def start(self):
        if self.running():
            raise RuntimeError('%s is already running' % self.name)
        os.makedirs(os.path.dirname(os.path.abspath(self.log_path)), exist_ok=True)
        self.returncode = None
        self.stop_timed_out = False
        self.offsets = sizes(self.log_path, *self.other_logs)
        with open(self.log_path, 'ab') as log:
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=log, env=self.env, cwd=self.cwd,
                                         **self.popen_kw)
        return self

    def wait_ready(self, check, timeout=None):
        timeout = config.STARTUP_TIMEOUT if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                self.returncode = self.proc.returncode
                raise RuntimeError('%s exited with status %s while starting:\n%s' % (
                    self.name, self.returncode, self.log_tail()))
            try:
                if check():
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError('%s did not get ready within %.0f s:\n%s' % (
                    self.name, timeout, self.log_tail()))
            time.sleep(0.02)

    def stop(self, sig=signal.SIGTERM, timeout=None):
        """Stop with `sig` (SIGKILL after `timeout` seconds); the exit status (negative:
        the signal that ended it), or None if it was never started. Idempotent."""
        if self.proc is None:
            return self.returncode
        timeout = config.STOP_TIMEOUT if timeout is None else timeout
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.stop_timed_out = True
                self.proc.kill()
                self.proc.wait()
        self.returncode = self.proc.returncode
        self.proc = None
        return self.returncode

    def kill9(self):
        """SIGKILL, as a crash or the OOM killer would."""
        return self.stop(signal.SIGKILL)

    def log(self, since_start=False):
        """The text of its logs, all of it or what the last start added."""
        return read_text(self.log_path, *self.other_logs,
                         offsets=self.offsets if since_start else None)

    def log_tail(self, n=5000):
        return self.log(since_start=True)[-n:]

    def crashes(self):
        return crash_lines(self.log(since_start=True))


def report(name, text, limit=20000):
    """Show a log on standard error (a failing test's evidence)."""
    sys.stderr.write('---- %s ----\n%s\n---- end of %s ----\n' % (name, text[-limit:], name))
