"""The web console (issue 19) in a real browser: Debian's chromium driven by
python3-selenium through chromium-driver, on a real jwtgated and a real nginx gateway.

The story of the issue, step by step: an owner signs in, creates and publishes an API (and
attaches its OpenAPI document, which the consumer then reads in the catalogue); a
consumer of another tenant creates an application, copies its secret from the page and
requests a subscription; the owner approves it with a reason; the consumer's curl, as the
page shows it, gets a token that the gateway accepts; the owner deprecates the API and the
consumer sees the sunset in the catalogue; the audit view shows every step. Then: a viewer
sees no button it may not use and is refused when it posts anyway; a change without the
CSRF token is refused; signing out and an expired session land on the sign-in page; a
wrong password is refused and, repeated, throttled. Screenshots of the main pages are
written to JG_CONSOLE_SHOTS (docs/console/ in the repository, for docs/console.md)."""
import json
import os
import shutil
import subprocess
import time
import unittest

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

from jgtest import Server, config
from jgtest.stack import Gateway

CHROMIUM = os.environ.get('JG_CHROMIUM', '/usr/bin/chromium')
CHROMEDRIVER = os.environ.get('JG_CHROMEDRIVER', '/usr/bin/chromedriver')
PASSWORD = 'console test password'


def set_password(srv, name, password=PASSWORD):
    p = subprocess.run([config.JWTGATED, 'passwd', '--data-dir', srv.data, '--user', name]
                       + srv.db_args, input=password + '\n', capture_output=True, text=True,
                       timeout=60)
    if p.returncode != 0:
        raise RuntimeError(p.stderr)


class Console(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = config.scratch('console-')
        cls.srv = Server(data_dir=cls.tmp, keep=True)
        cls.gw = Gateway(cls.tmp, cls.srv.snapshot_path)
        cls.url = 'http://127.0.0.1:%d/console/' % cls.srv.port
        admin = cls.srv.admin
        cls.users = {}
        for name in ('olivia', 'carl', 'vera'):
            _, u = admin('POST', '/users', {'name': name}, expect=201)
            cls.users[name] = u
            set_password(cls.srv, name)
        set_password(cls.srv, 'admin')
        _, cls.acme = admin('POST', '/tenants', {'name': 'acme', 'owner': 'olivia'}, expect=201)
        _, cls.shop = admin('POST', '/tenants', {'name': 'shop', 'owner': 'carl'}, expect=201)
        admin('POST', '/tenants/%s/members' % cls.acme['id'], {'user': 'vera', 'role': 'viewer'},
              expect=201)
        opts = Options()
        opts.binary_location = CHROMIUM
        for a in ('--headless=new', '--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu',
                  '--window-size=1280,900', '--lang=en-US'):
            opts.add_argument(a)
        opts.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
        cls.browser = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
        cls.browser.set_page_load_timeout(30)
        cls.shots = os.environ.get('JG_CONSOLE_SHOTS') or os.path.join(cls.tmp, 'shots')
        os.makedirs(cls.shots, exist_ok=True)

    @classmethod
    def tearDownClass(cls):
        try:
            cls.browser.quit()
        finally:
            try:
                cls.gw.stop()
            finally:
                cls.srv.close()
            shutil.rmtree(cls.tmp, ignore_errors=True)

    # ---- the browser ---------------------------------------------------------------------

    def wait(self, css, timeout=10, visible=True):
        cond = EC.visibility_of_element_located if visible else EC.presence_of_element_located
        try:
            return WebDriverWait(self.browser, timeout).until(cond((By.CSS_SELECTOR, css)))
        except TimeoutException:
            raise AssertionError('no %s on %s; the page says: %s; console: %s' % (
                css, self.browser.current_url, self.text()[:800],
                self.browser.get_log('browser')[-5:])) from None

    def wait_text(self, text, timeout=10):
        try:
            WebDriverWait(self.browser, timeout).until(lambda b: text in self.text())
        except TimeoutException:
            raise AssertionError('"%s" not on %s: %s' % (text, self.browser.current_url,
                                                         self.text()[:1500])) from None

    def text(self):
        return self.browser.find_element(By.TAG_NAME, 'body').text

    def go(self, hash_):
        self.browser.get(self.url + hash_)

    def shot(self, name):
        self.browser.save_screenshot(os.path.join(self.shots, name + '.png'))

    def sign_in(self, user, password=PASSWORD, expect_ok=True):
        self.browser.delete_all_cookies()
        self.browser.get(self.url)
        self.browser.execute_script('localStorage.clear(); sessionStorage.clear();')
        self.browser.get(self.url)
        self.wait('#user').send_keys(user)
        self.browser.find_element(By.ID, 'password').send_keys(password)
        self.browser.find_element(By.CSS_SELECTOR, 'button[type=submit]').click()
        if expect_ok:
            self.wait('#sign-out')

    def confirm(self):
        self.wait('#dlg-ok').click()

    def fetch(self, method, path, body=None, csrf=True):
        """A request from the page itself (the session cookie goes along): its status."""
        return self.browser.execute_async_script('''
            const [method, path, body, csrf, done] = arguments;
            (async () => {
              const s = await (await fetch('/admin/v1/session')).json();
              const h = {'Content-Type': 'application/json'};
              if (csrf) h['X-CSRF-Token'] = s.csrf_token;
              const r = await fetch('/admin/v1' + path, {method, headers: h,
                body: body === null ? undefined : JSON.stringify(body)});
              done(r.status);
            })().catch((e) => done(String(e)));''', method, path, body, csrf)

    # ---- the story -----------------------------------------------------------------------

    def test_1_the_story(self):
        b = self.browser
        # the owner creates and publishes an API
        self.sign_in('olivia')
        self.go('#/apis')
        self.wait('#api-name').send_keys('orders')
        b.find_element(By.ID, 'api-base_path').send_keys('/orders')
        b.find_element(By.ID, 'api-upstream').send_keys(self.gw.upstream)
        b.find_element(By.ID, 'api-audience').send_keys('https://api.example.com/orders')
        b.find_element(By.ID, 'api-scopes').send_keys('orders:read orders:write')
        b.find_element(By.ID, 'create-api').click()
        self.wait('button[data-action=published]').click()
        self.wait_text('gateways route /orders to it')
        self.shot('publish-confirmation')
        self.confirm()
        self.wait('button[data-action=deprecated]')
        self.shot('apis')
        # its OpenAPI document, uploaded as a file
        doc_path = os.path.join(self.tmp, 'orders.json')
        with open(doc_path, 'w') as f:
            json.dump({'openapi': '3.0.3', 'info': {
                'title': 'Orders API', 'version': '1.4', 'description': 'Orders of the shop.'},
                'servers': [{'url': 'https://api.example.com/orders'}],
                'paths': {'/{id}': {'get': {
                    'summary': 'One order', 'parameters': [{
                        'name': 'id', 'in': 'path', 'required': True, 'schema': {'type': 'string'},
                        'description': 'the order id'}],
                    'responses': {'200': {'description': 'the order'},
                                  '404': {'description': 'no such order'}}}},
                    '/': {'post': {'summary': 'Place an order', 'requestBody': {
                        'required': True, 'content': {'application/json': {}}},
                        'responses': {'201': {'description': 'placed'}}}}}}, f)
        self.wait('input[data-doc]').send_keys(doc_path)
        self.wait_text('OpenAPI document of orders saved')
        _, apis = self.srv.admin('GET', '/tenants/%s/apis' % self.acme['id'])
        api = [a for a in apis['items'] if a['name'] == 'orders'][0]
        self.assertEqual(api['state'], 'published')

        # a consumer of another tenant: an application, its secret, a subscription
        self.sign_in('carl')
        self.go('#/catalog')
        self.wait_text('orders v1')
        self.shot('catalog')
        self.wait('a.doc-link').click()
        self.wait_text('no such order')
        self.assertIn('Orders API', self.text())
        self.assertIn('Place an order', self.text())
        self.shot('api-documentation')
        self.go('#/apps')
        self.wait('#app-name').send_keys('shop-web')
        b.find_element(By.CSS_SELECTOR, 'form.stack button[type=submit]').click()
        secret = self.wait('#shown-secret').get_attribute('value')
        self.assertTrue(secret.startswith('jgs_'), secret)
        self.wait_text('Shown once')
        self.shot('application-secret')
        client_id = b.find_element(By.ID, 'client-id').text
        Select(self.wait('#sub-api')).select_by_visible_text('orders v1 (published)')
        b.find_element(By.ID, 'sub-scopes').send_keys('orders:read')
        b.find_element(By.ID, 'request-sub').click()
        self.wait_text('pending')
        app_url = b.current_url
        # the secret is gone once the page is left: shown once
        b.refresh()
        self.wait('#client-id')
        self.assertEqual(b.find_elements(By.ID, 'shown-secret'), [])

        # the owner approves it with a reason
        self.sign_in('olivia')
        self.go('#/approvals')
        self.wait('input.reason').send_keys('welcome, shop')
        self.shot('approvals')
        b.find_element(By.CSS_SELECTOR, 'button[data-approve]').click()
        self.wait_text('Nothing waits for a decision')

        # the consumer's curl, as shown, gets a token the gateway accepts
        self.sign_in('carl')
        b.get(app_url)
        gw = self.wait('#gateway-url')
        gw.clear()
        gw.send_keys('http://127.0.0.1:%d' % self.gw.port)
        self.wait_text('GATEWAY=http://127.0.0.1:%d' % self.gw.port)
        self.wait_text('welcome, shop')
        self.shot('application')
        curl = self.wait('pre.curl').text.replace('<your client secret>', secret)
        self.assertIn('CLIENT_ID=' + client_id, curl)
        script = curl + " -s -o /dev/null -w '%{http_code}'"
        deadline = time.time() + 10   # the gateway reloads its snapshot every 100 ms
        while True:
            out = subprocess.run(['bash', '-c', script], capture_output=True, text=True,
                                 timeout=30)
            if out.stdout.strip() == '200' or time.time() > deadline:
                break
            time.sleep(0.2)
        self.assertEqual(out.stdout.strip(), '200', (out.stdout, out.stderr))
        bad = subprocess.run(['bash', '-c', script.replace(secret, secret[:-2] + 'xx')],
                             capture_output=True, text=True, timeout=30)
        # no token (the error document in its place): the gateway refuses
        self.assertIn(bad.stdout.strip(), ('400', '401'), bad.stdout)

        # the owner deprecates the API; the consumer sees the sunset
        self.sign_in('olivia')
        self.go('#/apis')
        self.wait('button[data-action=deprecated]').click()
        self.wait_text('keep working until then')
        self.confirm()
        self.wait('button[data-action=retired]')
        self.sign_in('carl')
        self.go('#/catalog')
        self.wait('.sunset')
        self.assertIn('deprecated', self.text())

        # the audit view shows each step
        self.sign_in('admin')
        self.go('#/audit')
        self.wait_text('entries, newest first')
        for action in ('api.create', 'api.transition', 'app.create', 'subscription.request',
                       'subscription.approve'):
            self.assertIn(action, self.text())
        self.browser.find_element(By.ID, 'audit-action').send_keys('subscription.')
        self.browser.find_element(By.CSS_SELECTOR, 'form.inline button').click()
        self.wait_text('subscription.approve')
        self.assertNotIn('api.create', self.text())
        first = self.wait('details summary')
        first.click()
        self.wait_text('Before')
        self.shot('audit')
        for i in range(6):  # some traffic for the pictures: tokens, and refusals
            self.srv.token(client_id, secret if i % 3 else 'jgs_wrong')
        self.go('#/dashboard')
        self.wait('svg.chart rect')
        self.wait_text('tokens issued (')
        self.shot('dashboard')
        self.go('#/users')
        self.wait_text('olivia')
        self.shot('users')
        self.go('#/keys')
        self.wait_text('signing')
        self.shot('keys')
        # the phone-width layout
        b.set_window_size(390, 844)
        self.go('#/catalog')
        self.wait_text('orders v1')
        self.shot('catalog-phone')
        b.set_window_size(1280, 900)

    def test_2_viewer_sees_no_buttons_and_is_refused(self):
        self.sign_in('vera')
        self.go('#/apis')
        self.wait('table')
        self.assertEqual(self.browser.find_elements(By.ID, 'create-api'), [])
        self.assertEqual(self.browser.find_elements(By.CSS_SELECTOR, 'button[data-action]'), [])
        self.assertNotIn('Approvals', self.browser.find_element(By.ID, 'nav').text)
        self.go('#/apps')
        self.wait('table')
        self.assertEqual(self.browser.find_elements(By.ID, 'app-name'), [])
        self.shot('viewer-apis')
        status = self.fetch('POST', '/tenants/%s/apis' % self.acme['id'],
                            {'name': 'sneaky', 'version': 'v1', 'base_path': '/sneaky',
                             'upstream': 'http://127.0.0.1:9', 'audience': 'https://x/sneaky'})
        self.assertEqual(status, 403)
        self.assertEqual(self.fetch('POST', '/tenants/%s/apps' % self.acme['id'],
                                    {'name': 'sneaky'}), 403)

    def test_3_csrf_without_the_token_is_refused(self):
        self.sign_in('carl')
        self.assertEqual(self.fetch('POST', '/tenants/%s/apps' % self.shop['id'],
                                    {'name': 'no-csrf'}, csrf=False), 403)
        self.assertEqual(self.fetch('POST', '/tenants/%s/apps' % self.shop['id'],
                                    {'name': 'with-csrf'}), 201)

    def test_4_sign_out_and_expiry(self):
        self.sign_in('carl')
        self.go('#/apps')
        self.wait('table')
        self.browser.find_element(By.ID, 'sign-out').click()
        self.wait_text('Signed out.')
        self.go('#/apps')
        self.browser.refresh()
        self.wait('#user')
        self.assertEqual(self.fetch('GET', '/me'), 401)
        # the server ends an idle session whatever the cookie says
        self.sign_in('carl')
        self.srv.sql("UPDATE sessions SET seen_at = seen_at - 3600 WHERE user_id = '%s'"
                     % self.users['carl']['id'])
        self.go('#/catalog')
        self.browser.refresh()
        self.wait('#user')
        self.shot('sign-in')

    def test_5_wrong_passwords(self):
        self.sign_in('vera', 'not her password', expect_ok=False)
        self.wait_text('wrong user name or password')
        # from the third failure on, a window that doubles: however slow a hash is here
        # (a sanitizer build), the window outgrows the time between two attempts
        for _ in range(15):
            self.browser.find_element(By.ID, 'password').send_keys('x')
            self.browser.find_element(By.CSS_SELECTOR, 'button[type=submit]').click()
            time.sleep(0.3)
            if 'too many failed sign-ins' in self.text():
                break
        self.wait_text('too many failed sign-ins')
        # (that vera at another address is not locked out: tests/server/test_console_auth.py)

    def test_6_first_login_password(self):
        _, u = self.srv.admin('POST', '/users', {'name': 'fiona'}, expect=201)
        _, r = self.srv.admin('PUT', '/users/%s/password' % u['id'], {}, expect=200)
        self.sign_in('fiona', r['password'], expect_ok=False)
        self.wait_text('first-login password')
        self.assertEqual(self.browser.find_element(By.ID, 'nav').text, '')
        self.browser.find_element(By.ID, 'current').send_keys(r['password'])
        self.browser.find_element(By.ID, 'new').send_keys('fiona chose this one')
        self.browser.find_element(By.CSS_SELECTOR, 'button[type=submit]').click()
        self.wait('#sign-out')
        self.wait_text('API catalogue')

    def test_7_security_headers(self):
        import urllib.request
        for path in ('', 'app.js', 'app.css'):
            with urllib.request.urlopen(self.url + path) as r:
                h = r.headers
                body = r.read()
            csp = h['Content-Security-Policy']
            self.assertIn("script-src 'self'", csp)
            self.assertIn("default-src 'none'", csp)
            self.assertNotIn('unsafe', csp)
            self.assertEqual(h['X-Frame-Options'], 'DENY')
            self.assertEqual(h['X-Content-Type-Options'], 'nosniff')
            self.assertEqual(h['Referrer-Policy'], 'no-referrer')
            body.decode('ascii')  # the embedded files stay ASCII (embed.cmake makes char arrays)
        with urllib.request.urlopen(self.url) as r:
            html = r.read().decode()
        self.assertNotIn('<script>', html)  # no inline script
        self.assertNotIn('style=', html)


if __name__ == '__main__':
    unittest.main()
