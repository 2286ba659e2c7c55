"""Free loopback ports. Each probe binds as the servers do (SO_REUSEADDR): a
port held only by TIME_WAIT connections (a benchmark just ran) is free for
nginx and jwtgated, so it is free here too. A port is free when probed; a
server that can pick its own (jwtgated --port 0 --port-file) should."""
import random
import socket

HOST = '127.0.0.1'


def _probe():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    return s


def free_port():
    """One free port."""
    return free_ports(1)[0]


def free_ports(n):
    """`n` different free ports (held together while probing, so all distinct)."""
    socks = [_probe() for _ in range(n)]
    try:
        for s in socks:
            s.bind((HOST, 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def ephemeral_start():
    """The first port of the kernel's ephemeral range: it never picks a port below it
    by itself (bind to port 0, connect)."""
    try:
        with open('/proc/sys/net/ipv4/ip_local_port_range') as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _range_free(base, n):
    socks = []
    try:
        for p in range(base, base + n):
            t = _probe()
            socks.append(t)
            t.bind((HOST, p))
        return True
    except OSError:
        return False
    finally:
        for t in socks:
            t.close()


def free_port_range(n, tries=100):
    """A port P with P .. P+n-1 all free (for programs that take a base port), chosen at
    random below the ephemeral range: there the kernel gives no port to another test's
    connection or bind(0) between this probe and the program's own bind (inside it, the
    ports right after a free one are the likeliest to be handed out next: the demo's
    gateway port was once taken so under ctest -j3)."""
    top = ephemeral_start()
    if top - n > 10000 + 1000:
        for _ in range(tries):
            base = random.randrange(10000, top - n)
            if _range_free(base, n):
                return base
    for _ in range(tries):  # no room below it: any free run
        base = free_port()
        if base + n - 1 <= 65535 and _range_free(base, n):
            return base
    raise RuntimeError('no %d consecutive free ports' % n)
