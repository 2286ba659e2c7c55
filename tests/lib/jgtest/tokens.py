"""Keys and tokens made with the jwtgate command-line tool (config.JWTGATE_CLI)."""
import json
import os
import subprocess

from . import config


def cli(*args, stdin=None, check=True, env=None):
    """Run `jwtgate args...`; its standard output, stripped. RuntimeError with its
    standard error when it fails and `check` is true."""
    p = subprocess.run([config.JWTGATE_CLI] + [str(a) for a in args], input=stdin,
                       capture_output=True, text=True, timeout=60, env=env)
    if check and p.returncode != 0:
        raise RuntimeError('jwtgate %s: %s' % (' '.join(map(str, args)), p.stderr))
    return p.stdout.strip()


class Keys:
    """Key files in `dir` (made once, kept): an ES256 issuer, an ECDH-ES+A256KW gateway
    key, an HS256 secret, an RS256 issuer, a second ES256 issuer nobody trusts and a
    second gateway key; NAME.jwk and, but for the secret, NAME.pub.jwk."""

    KINDS = (('issuer', 'ES256'), ('gateway', 'ECDH-ES+A256KW'), ('hmac', 'HS256'),
             ('rsa', 'RS256'), ('stranger', 'ES256'), ('gateway2', 'ECDH-ES+A256KW'))

    def __init__(self, dir):
        self.dir = dir
        os.makedirs(dir, exist_ok=True)
        for name, alg in self.KINDS:
            path = self.path(name)
            if not os.path.exists(path):
                with open(path, 'w') as f:
                    f.write(cli('key', 'generate', '--alg', alg))
            pub = self.path(name + '.pub')
            if alg != 'HS256' and not os.path.exists(pub):
                with open(path) as f:
                    text = f.read()
                with open(pub, 'w') as f:
                    f.write(cli('key', 'public', stdin=text))

    def path(self, name):
        return os.path.join(self.dir, name + '.jwk')

    def jwk(self, name):
        with open(self.path(name)) as f:
            return json.load(f)

    def jwks_file(self, name, *keys, public=False):
        """A JWKS file NAME.jwks of the named keys (their public parts if `public`)."""
        path = os.path.join(self.dir, name + '.jwks')
        args = ['key', 'set', '--public' if public else '--private'] + [self.path(k) for k in keys]
        with open(path, 'w') as f:
            f.write(cli(*args))
        return path


def claim_args(iss=None, aud=None, sub=None, exp='15m', nbf=None, jti=None, claims=None,
               no_exp=False):
    """The claim options of `jwtgate jwt sign|seal`."""
    args = []
    if iss:
        args += ['--iss', iss]
    if sub:
        args += ['--sub', sub]
    for a in ([aud] if isinstance(aud, str) else aud or []):
        args += ['--aud', a]
    if no_exp:
        args += ['--no-exp']
    elif exp:
        args += ['--exp', exp]
    if nbf:
        args += ['--nbf', nbf]
    if jti:
        args += ['--jti', jti]
    for k, v in (claims or {}).items():
        args += ['--claim', '%s=%s' % (k, v if isinstance(v, str) else json.dumps(v))]
    return args


def signed(keys, key='issuer', typ='at+jwt', alg=None, **kw):
    """A JWS-signed JWT (claim_args keywords)."""
    args = ['jwt', 'sign', '--key', keys.path(key)]
    if typ:
        args += ['--typ', typ]
    if alg:
        args += ['--alg', alg]
    return cli(*(args + claim_args(**kw)))


def nested(keys, sign='issuer', enc='gateway', **kw):
    """A signed-then-encrypted access token (claim_args keywords)."""
    return cli(*(['jwt', 'seal', '--sign-key', keys.path(sign), '--enc-key',
                  keys.path(enc + '.pub')] + claim_args(**kw)))


def encrypted(keys, claims, enc='gateway', header=None, zip=False, p2c=None, key=None):
    """A JWE whose plaintext is `claims` (a dict or text), not a JWS."""
    args = ['jwe', 'encrypt', '--key', key or keys.path(enc + '.pub'),
            '--header', json.dumps(header if header is not None else {'typ': 'at+jwt'})]
    if zip:
        args.append('--zip')
    if p2c:
        args += ['--p2c', p2c]
    text = claims if isinstance(claims, str) else json.dumps(claims)
    return cli(*args, stdin=text)
