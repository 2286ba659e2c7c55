"""jwtgated --config FILE (key = value lines, the command line wins), --snapshot-mode,
`jwtgate gateway sync --mode` and `jwtgated create-master-key`: what the Debian packages
rely on (docs/jwtgated.md "Configuration file", docs/SECURITY.md "On a packaged host")."""
import os
import stat
import subprocess
import unittest

from jgtest import Server, World, config


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def write(path, text):
    with open(path, 'w') as f:
        f.write(text)
    return path


def jwtgated(*args):
    return subprocess.run([config.JWTGATED] + list(args), capture_output=True, text=True,
                          timeout=60, env=config.child_env())


class ConfigFile(unittest.TestCase):
    def test_file_values_and_command_line_wins(self):
        conf = write(os.path.join(config.scratch('conf-'), 'jwtgated.conf'),
                     '# the packaged file\ntoken-ttl = 300\nsnapshot-mode = 0640\n'
                     'publish-delay = 0\naccess-log = false\n')
        with Server('--config', conf) as srv:
            w = World(srv)
            w.subscribe('a', 'a', ['orders:read'])
            r = srv.token(*w.client('a'))
            self.assertEqual(r.json()['expires_in'], 300)  # from the file
            srv.snapshot()
            self.assertEqual(mode(srv.snapshot_path), 0o640)
        with Server('--config', conf, '--token-ttl', '600', '--snapshot-mode', '0600') as srv:
            w = World(srv)
            w.subscribe('a', 'a', ['orders:read'])
            self.assertEqual(srv.token(*w.client('a')).json()['expires_in'], 600)
            srv.snapshot()
            self.assertEqual(mode(srv.snapshot_path), 0o600)

    def test_default_snapshot_mode_is_0600(self):
        with Server() as srv:
            srv.snapshot()
            self.assertEqual(mode(srv.snapshot_path), 0o600)

    def test_bad_files_and_values(self):
        d = config.scratch('conf-')
        out = jwtgated('serve', '--config', write(os.path.join(d, 'a.conf'), 'prot = 1\n'))
        self.assertEqual(out.returncode, 2)
        self.assertIn('a.conf:1: unknown key "prot"', out.stderr)
        out = jwtgated('serve', '--config', os.path.join(d, 'missing.conf'))
        self.assertEqual(out.returncode, 2)
        self.assertIn('missing.conf', out.stderr)
        # a value from the file is checked like one on the command line
        out = jwtgated('serve', '--config', write(os.path.join(d, 'b.conf'), 'port = 70000\n'))
        self.assertEqual(out.returncode, 2)
        self.assertIn('bad value for --port: 70000', out.stderr)
        out = jwtgated('serve', '--snapshot-mode', '0644')
        self.assertEqual(out.returncode, 2)
        self.assertIn('bad value for --snapshot-mode', out.stderr)


class MasterKey(unittest.TestCase):
    def test_create_master_key(self):
        d = config.scratch('mk-')
        key = os.path.join(d, 'master.key')
        self.assertEqual(jwtgated('create-master-key').returncode, 2)
        out = jwtgated('create-master-key', '--master-key-file', key)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(mode(key), 0o600)
        with open(key) as f:
            first = f.read()
        self.assertEqual(len(first.strip()), 43)
        # the second start keeps it
        self.assertEqual(jwtgated('create-master-key', '--master-key-file', key).returncode, 0)
        with open(key) as f:
            self.assertEqual(f.read(), first)
        os.chmod(key, 0o644)
        out = jwtgated('create-master-key', '--master-key-file', key)
        self.assertEqual(out.returncode, 1)
        self.assertIn('readable by others', out.stderr)


class SyncMode(unittest.TestCase):
    def test_sync_mode(self):
        with Server() as srv:
            d = config.scratch('sync-')
            cred = os.path.join(d, 'gw.json')
            env = dict(config.child_env(), JWTGATE_ADMIN_URL=srv.issuer,
                       JWTGATE_ADMIN_TOKEN=srv.admin_token)
            out = subprocess.run([config.JWTGATE_CLI, 'admin', 'gateway', 'create', 'edge',
                                  '--out', cred], capture_output=True, text=True, timeout=60,
                                 env=env)
            self.assertEqual(out.returncode, 0, out.stderr)

            def sync(path, *extra):
                return subprocess.run([config.JWTGATE_CLI, 'gateway', 'sync', '--url',
                                       srv.issuer, '--credential', cred, '--out', path,
                                       '--once'] + list(extra), capture_output=True,
                                      text=True, timeout=60, env=config.child_env())
            p1, p2 = os.path.join(d, 'default.jgs'), os.path.join(d, 'group.jgs')
            self.assertEqual(sync(p1).returncode, 0)
            self.assertEqual(mode(p1), 0o600)
            out = sync(p2, '--mode', '0640')
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertEqual(mode(p2), 0o640)
            out = sync(p2, '--mode', '0644')
            self.assertEqual(out.returncode, 2)
            self.assertIn('--mode: 0600 or 0640', out.stderr)


if __name__ == '__main__':
    unittest.main()
