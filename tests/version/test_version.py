"""One version, written once: project(jwtgate VERSION ...) in CMakeLists.txt.
Everything that states a version must state that one: the configured header
and the shared library (jg_version()), `jwtgate --version`, `jwtgated
--version`, the pkg-config file, the man pages' .TH lines, the OpenAPI
document jwtgated serves, CHANGELOG.md (a section for it) and the Debian
packages' version (debian/changelog's first entry: VERSION, or VERSION-N)."""
import json
import os
import re
import subprocess
import unittest

import jgtest

VERSION = os.environ['JG_PROJECT_VERSION']


def read(*parts):
    with open(os.path.join(jgtest.REPO, *parts)) as f:
        return f.read()


def run(*argv, env=None):
    p = subprocess.run(list(argv), capture_output=True, text=True, timeout=60, env=env)
    if p.returncode != 0:
        raise AssertionError('%s: exit %d: %s' % (' '.join(argv), p.returncode, p.stderr))
    return p.stdout


class Version(unittest.TestCase):

    def test_the_one_place(self):
        m = re.search(r'^project\(jwtgate VERSION (\d+\.\d+\.\d+)\b', read('CMakeLists.txt'),
                      re.M)
        self.assertIsNotNone(m)
        self.assertEqual(m.group(1), VERSION)   # this build was configured from it
        # and nowhere else in the public headers by hand
        for name in os.listdir(os.path.join(jgtest.REPO, 'include', 'jwtgate')):
            if name.endswith('.h'):
                self.assertNotIn(VERSION, read('include', 'jwtgate', name), name)

    def test_headers_and_library(self):
        out = dict(line.split(' ', 1) for line in
                   run(os.environ['JG_VERSION_PROBE']).splitlines())
        self.assertEqual(out, {'header': VERSION, 'macros': VERSION, 'library': VERSION})
        # libjwtgate.so.MAJOR.MINOR.PATCH (the SONAME is the ABI version)
        real = os.path.realpath(os.environ['JG_SHARED_LIBRARY'])
        self.assertTrue(real.endswith('.so.' + VERSION), real)

    def test_tools(self):
        self.assertEqual(run(jgtest.JWTGATE_CLI, '--version'), 'jwtgate %s\n' % VERSION)
        self.assertEqual(run(jgtest.JWTGATED, '--version'), 'jwtgated %s\n' % VERSION)

    def test_pkg_config(self):
        env = dict(os.environ, PKG_CONFIG_PATH=os.environ['JG_PC_DIR'])
        self.assertEqual(run('pkg-config', '--modversion', 'jwtgate', env=env).strip(), VERSION)

    def test_man_pages(self):
        for page in ('jwtgate.1', 'jwtgated.8'):
            th = [line for line in read('docs', page).splitlines() if line.startswith('.TH ')]
            self.assertEqual(len(th), 1, page)
            # .TH NAME SECTION "date" "jwtgate VERSION" "manual"
            fields = re.findall(r'"([^"]*)"|(\S+)', th[0][4:])
            fields = [a or b for a, b in fields]
            self.assertEqual(fields[3], 'jwtgate ' + VERSION, (page, th[0]))
            self.assertRegex(fields[2], r'^\d{4}-\d{2}-\d{2}$', page)

    def test_debian_changelog(self):
        first = read('debian', 'changelog').splitlines()[0]
        m = re.match(r'^jwtgate \(([^)]+)\) ', first)
        self.assertIsNotNone(m, first)
        self.assertRegex(m.group(1), r'^%s(-\d+)?$' % re.escape(VERSION), first)

    def test_openapi(self):
        # jwtgated serves docs/openapi.json (embedded); scripts/gen-openapi writes it
        doc = json.loads(read('docs', 'openapi.json'))
        self.assertEqual(doc['info']['version'], VERSION)

    def test_changelog(self):
        text = read('CHANGELOG.md')
        self.assertIn('## [Unreleased]', text)
        self.assertRegex(text, r'(?m)^## \[%s\] - \d{4}-\d{2}-\d{2}$' % re.escape(VERSION))


if __name__ == '__main__':
    jgtest.main()
