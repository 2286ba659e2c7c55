"""Free loopback ports. Each probe binds as the servers do (SO_REUSEADDR): a
port held only by TIME_WAIT connections (a benchmark just ran) is free for
nginx and jwtgated, so it is free here too. A port is free when probed; a
server that can pick its own (jwtgated --port 0 --port-file) should."""
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


def free_port_range(n, tries=50):
    """A port P with P .. P+n-1 all free (for programs that take a base port)."""
    for _ in range(tries):
        base = free_port()
        if base + n - 1 > 65535:
            continue
        socks = []
        try:
            for p in range(base, base + n):
                t = _probe()
                socks.append(t)
                t.bind((HOST, p))
            return base
        except OSError:
            continue
        finally:
            for t in socks:
                t.close()
    raise RuntimeError('no %d consecutive free ports' % n)
