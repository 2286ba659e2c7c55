"""scripts/check-nginx-style (run by scripts/lint on nginx/): it finds each
rule's violation in a file written to break them, and nothing in the
module's own sources."""
import os
import subprocess
import tempfile
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
CHECK = os.path.join(ROOT, 'scripts', 'check-nginx-style')

BAD = '''
/*
 * A file that breaks each rule once.
 */


#include <ngx_config.h>


static ngx_int_t ngx_bad_one(ngx_str_t *s);


static ngx_int_t
ngx_bad_one(ngx_str_t *s)
{
    ngx_uint_t  i;
    u_char *p;
    size_t     n;

    if(s->len == 0){
        return 0xFF;
    }else {
        p = (u_char *)s->data;\t// a tab and a line comment
    }
#if NGX_DEBUG
    i = 0;%(space)s
#endif
    return (ngx_int_t) i + (p - s->data) + 1 + 2 + 3 + 4 + 5 + 6 + 7 + 8 + 9 + 10;
}

static ngx_int_t ngx_bad_two(void)
{
    return 0;
}


static void
ngx_bad_three(void)
{
}
''' % {'space': ' '}

RULES = [
    (16, 'declarations not aligned'),
    (16, 'declarations not sorted by the length of their type'),
    (17, 'declaration: two spaces or more between type and name'),
    (20, 'no space after "if"'),
    (20, 'no space between ")" and "{"'),
    (21, 'hexadecimal literal not in lower case'),
    (22, 'no space around "else"'),
    (23, 'tab'),
    (23, '"//" comment'),
    (23, 'no space after the cast (u_char *)'),
    (25, '#if without parentheses'),
    (26, 'trailing space'),
    (28, 'longer than 80 characters'),
    (29, 'two empty lines after the end of a function'),
    (31, 'definition of ngx_bad_two: the name starts a line of its own'),
    (38, 'function ngx_bad_three has no prototype'),
]


class Style(unittest.TestCase):

    def run_check(self, *paths):
        return subprocess.run([CHECK] + list(paths), capture_output=True, text=True,
                              timeout=60)

    def test_each_rule(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, 'ngx_bad.c')
            with open(path, 'w') as f:
                f.write(BAD)
            p = self.run_check(path)
        self.assertEqual(p.returncode, 1, p.stdout)
        found = p.stdout.splitlines()
        for line, rule in RULES:
            self.assertTrue(any(f.startswith('%s:%d: %s' % (path, line, rule)) for f in found),
                            'not found: %d: %s in\n%s' % (line, rule, p.stdout))
        self.assertEqual(len(found), len(RULES), p.stdout)

    def test_header_guard(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, 'ngx_bad.h')
            with open(path, 'w') as f:
                f.write('\n#ifndef NGX_BAD_H\n#define NGX_BAD_H\n#endif\n')
            p = self.run_check(path)
        self.assertEqual(p.returncode, 1)
        self.assertIn('no include guard', p.stdout)

    def test_module_is_clean(self):
        nginx = os.path.join(ROOT, 'nginx')
        files = sorted(os.path.join(nginx, f) for f in os.listdir(nginx)
                       if f.endswith(('.c', '.h')))
        self.assertGreaterEqual(len(files), 7)
        p = self.run_check(*files)
        self.assertEqual((p.returncode, p.stdout), (0, ''))


if __name__ == '__main__':
    unittest.main(verbosity=2)
