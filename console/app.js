// jwtgate console: a client of the admin API (/admin/v1), like `jwtgate admin`.
//
// Rules this file keeps:
// - Every page and action is one admin API call or a few; the server decides what is
//   allowed (it answers 403 otherwise). The console hides what the caller's role cannot
//   use, from the same roles the server checks: viewer < developer < admin < owner.
// - No HTML is built from strings: every element is made with el(), every text is a text
//   node, so nothing an API returns can become markup (and the CSP forbids inline script).
// - The session is an HttpOnly cookie the page never sees; changes carry X-CSRF-Token.
// - Secrets (a new client secret, a generated password) are shown once, in the page only.

'use strict';

const ROLES = ['none', 'viewer', 'developer', 'admin', 'owner'];
const state = { session: null, me: null, tenant: null, tenants: [], issuer: null };
const main = () => document.getElementById('main');

// ---- DOM ---------------------------------------------------------------------------

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'text') e.textContent = v;
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const kid of kids.flat()) {
    if (kid === null || kid === undefined || kid === false) continue;
    e.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return e;
}

function field(label, input) {
  return el('label', {}, label, input);
}

function when(t) {
  return t ? new Date(t * 1000).toISOString().replace('T', ' ').slice(0, 16) + ' UTC' : '-';
}

function badge(s) {
  return el('span', { class: 'badge ' + s }, s);
}

function table(cols, rows, render) {
  const head = el('tr', {}, cols.map((c) => el('th', { scope: 'col' }, c)));
  const body = rows.map((r) => {
    const cells = render(r);
    return el('tr', {}, cells.map((c, i) => el('td', { 'data-label': cols[i] }, c)));
  });
  return el('div', { class: 'scroll' },
    el('table', { class: 'cards' }, el('thead', {}, head), el('tbody', {}, body)));
}

function toast(msg) {
  const t = el('p', {}, msg);
  document.getElementById('toast').append(t);
  setTimeout(() => t.remove(), 6000);
}

function page(title, ...kids) {
  const m = main();
  m.replaceChildren(el('h1', {}, title), ...kids.flat().filter((k) => k));
  document.title = title + ' - jwtgate console';
}

function problem(err) {
  return el('div', { class: 'error', role: 'alert' }, err.message || String(err));
}

// A confirmation dialog: resolves true when confirmed.
function confirmDialog(title, text, action, danger) {
  return new Promise((resolve) => {
    const d = el('dialog', { 'aria-labelledby': 'dlg-title' },
      el('h2', { id: 'dlg-title' }, title), el('p', {}, text),
      el('div', { class: 'actions' },
        el('button', { class: danger ? 'danger' : '', id: 'dlg-ok',
          onclick: () => { d.close(); resolve(true); } }, action),
        el('button', { class: 'secondary', onclick: () => { d.close(); resolve(false); } },
          'Cancel')));
    d.addEventListener('close', () => { d.remove(); resolve(false); });
    document.body.append(d);
    d.showModal();
  });
}

// A secret shown once, with a copy button.
function secretBox(label, value, note) {
  const input = el('input', { readonly: true, value, class: 'mono', 'aria-label': label,
    id: 'shown-secret' });
  const copy = el('button', { type: 'button', onclick: async () => {
    try { await navigator.clipboard.writeText(value); toast('Copied'); } catch (e) {
      input.select(); document.execCommand('copy'); toast('Copied');
    }
  } }, 'Copy');
  return el('div', { class: 'secret', role: 'status' }, el('strong', {}, label),
    el('p', {}, note || 'Shown once: copy it now. jwtgate keeps only its hash.'),
    el('div', { class: 'actions' }, input, copy));
}

// ---- The admin API -------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, doc) {
    super((doc && (doc.detail || doc.title)) || ('HTTP ' + status));
    this.status = status;
  }
}

async function api(method, path, body) {
  const headers = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && state.session) headers['X-CSRF-Token'] = state.session.csrf_token;
  const r = await fetch('/admin/v1' + path, { method, headers, credentials: 'same-origin',
    body: body !== undefined ? JSON.stringify(body) : undefined });
  const text = await r.text();
  let doc = null;
  try { doc = text ? JSON.parse(text) : null; } catch (e) { doc = null; }
  if (r.status === 401 && path !== '/session') {
    state.session = null;
    signIn('Your session has ended; sign in again.');
    throw new ApiError(401, doc);
  }
  if (!r.ok) throw new ApiError(r.status, doc);
  return doc;
}

function role(tenantId) {
  if (state.me && state.me.system_admin) return 4;
  const m = (state.me ? state.me.memberships : []).find((x) => x.tenant_id === tenantId);
  return m ? ROLES.indexOf(m.role) : 0;
}
const can = (min) => role(state.tenant) >= ROLES.indexOf(min);

// ---- Signing in ----------------------------------------------------------------------

function signIn(message) {
  document.getElementById('nav').replaceChildren();
  document.getElementById('who').replaceChildren();
  const err = el('div', { 'aria-live': 'assertive' });
  const user = el('input', { name: 'username', autocomplete: 'username', required: true, id: 'user' });
  const pw = el('input', { name: 'password', type: 'password', autocomplete: 'current-password',
    required: true, id: 'password' });
  const form = el('form', { class: 'stack', onsubmit: async (ev) => {
    ev.preventDefault();
    err.replaceChildren();
    try {
      state.session = await api('POST', '/session', { user: user.value, password: pw.value });
      await start();
    } catch (e) {
      err.replaceChildren(problem(e));
    }
  } }, field('User name', user), field('Password', pw), el('button', { type: 'submit' }, 'Sign in'));
  page('Sign in', message ? el('p', { class: 'notice' }, message) : null, err, form,
    el('p', { class: 'muted' }, 'No password yet? An administrator runs ',
      el('code', {}, 'jwtgated passwd --user NAME --generate'), '.'));
  user.focus();
}

function changePassword(forced) {
  const err = el('div', { 'aria-live': 'assertive' });
  const cur = el('input', { type: 'password', autocomplete: 'current-password', id: 'current' });
  const next = el('input', { type: 'password', autocomplete: 'new-password', id: 'new',
    minlength: 12, required: true });
  const form = el('form', { class: 'stack', onsubmit: async (ev) => {
    ev.preventDefault();
    try {
      await api('POST', '/me/password', { current_password: cur.value, new_password: next.value });
      toast('Password changed; your other sessions have ended');
      state.session = await api('GET', '/session');
      await start();
    } catch (e) {
      err.replaceChildren(problem(e));
    }
  } }, field('Current password', cur), field('New password (12 characters or more)', next),
  el('button', { type: 'submit' }, 'Change password'));
  page('Change your password',
    forced ? el('p', { class: 'notice' }, 'This is a first-login password: choose your own ' +
      'before anything else.') : null, err, form);
}

async function signOut() {
  try { await api('DELETE', '/session'); } catch (e) { /* ended already */ }
  state.session = null;
  signIn('Signed out.');
}

// ---- Frame: navigation, tenant -------------------------------------------------------

const ROUTES = [
  ['#/catalog', 'Catalogue', () => true],
  ['#/apps', 'Applications', () => state.tenant && can('viewer')],
  ['#/apis', 'APIs', () => state.tenant && can('viewer')],
  ['#/approvals', 'Approvals', () => state.tenant && can('admin')],
  ['#/members', 'Members', () => state.tenant && can('viewer')],
  ['#/audit', 'Audit', () => (state.tenant && can('admin')) || state.me.system_admin],
  ['#/dashboard', 'Dashboard', () => state.me.system_admin],
  ['#/tenants', 'Tenants', () => state.me.system_admin],
  ['#/users', 'Users', () => state.me.system_admin],
  ['#/keys', 'Keys', () => state.me.system_admin],
  ['#/gateways', 'Gateways', () => state.me.system_admin],
];

function frame() {
  const here = location.hash.split('/').slice(0, 2).join('/') || '#/catalog';
  document.getElementById('nav').replaceChildren(...ROUTES.filter((r) => r[2]()).map((r) =>
    el('a', { href: r[0], 'aria-current': r[0] === here ? 'page' : null }, r[1])));
  const pick = el('select', { id: 'tenant', 'aria-label': 'Tenant', onchange: () => {
    state.tenant = pick.value;
    localStorage.setItem('jg.tenant', state.tenant);
    route();
  } }, state.tenants.map((t) => el('option', { value: t.id, selected: t.id === state.tenant },
    t.name + ' (' + ROLES[role(t.id)] + ')')));
  document.getElementById('who').replaceChildren(
    state.tenants.length ? pick : el('span', { class: 'muted' }, 'no tenant'),
    el('span', {}, state.me.name + (state.me.system_admin ? ' (system administrator)' : '')),
    el('a', { href: '#/password' }, 'Password'),
    el('button', { class: 'secondary', id: 'sign-out', onclick: signOut }, 'Sign out'));
}

async function start() {
  if (state.session.must_change_password) {
    document.getElementById('nav').replaceChildren();
    document.getElementById('who').replaceChildren(
      el('button', { class: 'secondary', onclick: signOut }, 'Sign out'));
    changePassword(true);
    return;
  }
  state.me = await api('GET', '/me');
  if (state.me.system_admin) {
    state.tenants = (await api('GET', '/tenants')).items;
  } else {
    state.tenants = await Promise.all(state.me.memberships.map((m) =>
      api('GET', '/tenants/' + m.tenant_id)));
  }
  const saved = localStorage.getItem('jg.tenant');
  state.tenant = state.tenants.some((t) => t.id === saved) ? saved
    : (state.tenants[0] ? state.tenants[0].id : null);
  if (!state.issuer) {
    try {
      state.issuer = await (await fetch('/.well-known/oauth-authorization-server')).json();
    } catch (e) { state.issuer = {}; }
  }
  route();
}

async function route() {
  if (!state.session) return;
  frame();
  const [, name, id] = (location.hash || '#/catalog').split('/');
  const views = { catalog, apps, apis, approvals, members, audit, dashboard, tenants, users,
    keys, gateways, doc, password: () => changePassword(false) };
  const view = views[name] || catalog;
  try {
    await view(id);
  } catch (e) {
    if (e.status !== 401) page('Something went wrong', problem(e));
  }
  main().focus();
}

// ---- Catalogue -----------------------------------------------------------------------

async function catalog() {
  const items = (await api('GET', '/catalog')).items;
  page('API catalogue',
    el('p', { class: 'muted' }, 'Published and deprecated APIs of every tenant.'),
    items.length ? table(['API', 'State', 'Base path', 'Audience', 'Scopes', 'Subscription'],
      items, (a) => [el('strong', {}, a.name + ' ' + a.version), el('span', {}, badge(a.state),
        a.sunset ? el('span', { class: 'sunset' }, ' sunset ' + when(a.sunset)) : null),
      el('code', {}, a.base_path || ''), el('code', {}, a.audience), a.scopes.join(' '),
      el('span', {}, a.policy === 'automatic' ? 'approved at once' : 'needs approval',
        a.openapi ? [el('br'), el('a', { href: '#/doc/' + a.id, class: 'doc-link' },
          'Documentation')] : null)])
      : el('p', {}, 'Nothing is published yet.'));
}

// ---- An API's OpenAPI document, rendered ---------------------------------------------

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

function schemaText(s) {
  if (!s || typeof s !== 'object') return '';
  if (s.$ref) return String(s.$ref).split('/').pop();
  if (s.type === 'array') return schemaText(s.items) + '[]';
  return [s.type, s.format].filter(Boolean).join(' ') || (s.oneOf ? 'one of ' +
    s.oneOf.map(schemaText).join(' | ') : 'object');
}

async function doc(id) {
  let d;
  try {
    d = await api('GET', '/catalog/' + id + '/openapi');
  } catch (e) {
    if (e.status !== 404 || !state.tenant) throw e;
    d = await api('GET', '/tenants/' + state.tenant + '/apis/' + id + '/openapi');
  }
  const info = d.info || {};
  const kids = [el('p', { class: 'muted' }, (d.openapi ? 'OpenAPI ' + d.openapi : 'Swagger ' +
    d.swagger) + (info.version ? ' | version ' + info.version : '')),
  info.description ? el('p', { class: 'prose' }, String(info.description)) : null];
  const servers = (d.servers || []).map((s) => s && s.url).filter(Boolean);
  if (servers.length) kids.push(el('p', {}, 'Servers: ', servers.map((u) => el('code', {}, u + ' '))));
  const paths = Object.keys(d.paths || {}).sort();
  for (const p of paths) {
    const item = d.paths[p] || {};
    for (const m of METHODS.filter((x) => item[x])) {
      const op = item[m] || {};
      const params = [...(item.parameters || []), ...(op.parameters || [])].filter((x) => x && x.name);
      const responses = Object.entries(op.responses || {});
      const body = op.requestBody && op.requestBody.content ? Object.keys(op.requestBody.content) : [];
      kids.push(el('section', { class: 'op' },
        el('h2', {}, el('span', { class: 'badge method' }, m.toUpperCase()), ' ', el('code', {}, p)),
        op.summary ? el('p', {}, el('strong', {}, String(op.summary))) : null,
        op.description ? el('p', { class: 'prose' }, String(op.description)) : null,
        params.length ? table(['Parameter', 'In', 'Required', 'Type', 'Description'], params,
          (x) => [el('code', {}, x.name), x.in || '', x.required ? 'yes' : '',
            schemaText(x.schema || x), x.description || '']) : null,
        body.length ? el('p', {}, 'Request body: ', body.map((c) => el('code', {}, c + ' ')),
          op.requestBody.required ? '(required)' : '') : null,
        responses.length ? table(['Response', 'Description'], responses, ([code, r]) =>
          [el('code', {}, code), (r && r.description) || '']) : null));
    }
  }
  if (!paths.length) kids.push(el('p', {}, 'The document lists no paths.'));
  page(String(info.title || 'API documentation'), ...kids);
}

// ---- Applications --------------------------------------------------------------------

async function apps(id) {
  if (id) return app(id);
  const t = state.tenant;
  const items = (await api('GET', '/tenants/' + t + '/apps')).items;
  const kids = [table(['Application', 'client_id', 'Authentication', 'State'], items, (a) => [
    el('a', { href: '#/apps/' + a.id }, a.name), el('code', {}, a.client_id), a.auth_method,
    a.suspended ? badge('suspended') : badge('active')])];
  if (can('developer')) {
    const name = el('input', { id: 'app-name', required: true, pattern: '[A-Za-z0-9._-]+' });
    const method = el('select', { id: 'app-method' },
      el('option', { value: 'client_secret' }, 'client secret'),
      el('option', { value: 'private_key_jwt' }, 'private_key_jwt (a public JWK)'));
    const jwk = el('textarea', { id: 'app-jwk', class: 'mono',
      placeholder: '{"kty":"EC","crv":"P-256","x":"...","y":"..."}' });
    const out = el('div', {});
    kids.push(el('h2', {}, 'New application'), out, el('form', { class: 'stack', onsubmit: async (ev) => {
      ev.preventDefault();
      try {
        const body = { name: name.value, auth_method: method.value };
        if (method.value === 'private_key_jwt') body.jwks = JSON.parse(jwk.value);
        const made = await api('POST', '/tenants/' + t + '/apps', body);
        sessionStorage.setItem('jg.new-secret.' + made.id, made.client_secret || '');
        location.hash = '#/apps/' + made.id;
      } catch (e) {
        out.replaceChildren(problem(e));
      }
    } }, field('Name', name), field('Authentication', method),
    field('Public JWK or JWK Set (private_key_jwt only)', jwk),
    el('button', { type: 'submit' }, 'Create application')));
  }
  page('Applications', ...kids);
}

function curlFor(a, secret, sub, api) {
  const token = (state.issuer && state.issuer.token_endpoint) || (location.origin + '/oauth2/token');
  const gw = localStorage.getItem('jg.gateway') || 'https://gateway.example.com';
  const lines = [
    'CLIENT_ID=' + a.client_id,
    'CLIENT_SECRET=' + (secret || '<your client secret>'),
    'GATEWAY=' + gw,
    'TOKEN=$(curl -s -u "$CLIENT_ID:$CLIENT_SECRET" -d grant_type=client_credentials \\',
    '  -d resource=' + api.audience + ' ' + token + ' | sed \'s/.*"access_token":"\\([^"]*\\)".*/\\1/\')',
    'curl -H "Authorization: Bearer $TOKEN" "$GATEWAY' + (api.base_path || '') + '/"',
  ];
  return lines.join('\n');
}

async function app(id) {
  const t = state.tenant;
  const [a, secrets, subs, cat] = await Promise.all([
    api('GET', '/tenants/' + t + '/apps/' + id),
    api('GET', '/tenants/' + t + '/apps/' + id + '/secrets'),
    api('GET', '/tenants/' + t + '/subscriptions'),
    api('GET', '/catalog')]);
  const mine = subs.items.filter((s) => s.app_id === id);
  const byId = Object.fromEntries(cat.items.map((x) => [x.id, x]));
  const fresh = sessionStorage.getItem('jg.new-secret.' + id);
  sessionStorage.removeItem('jg.new-secret.' + id);
  const shown = el('div', {}, fresh ? secretBox('Client secret', fresh) : null);
  const kids = [el('p', {}, 'client_id ', el('code', { id: 'client-id' }, a.client_id), ' | ',
    a.auth_method, ' | token binding ', a.token_binding || 'dpop_optional'), shown];
  if (a.auth_method === 'client_secret') {
    kids.push(el('h2', {}, 'Secrets'), table(['Hint', 'Created', 'Expires'], secrets.items,
      (s) => [el('code', {}, s.hint + '...'), when(s.created_at), when(s.expires_at)]));
    if (can('developer')) {
      kids.push(el('button', { id: 'add-secret', onclick: async () => {
        try {
          const s = await api('POST', '/tenants/' + t + '/apps/' + id + '/secrets', {});
          shown.replaceChildren(secretBox('New client secret', s.client_secret));
        } catch (e) { shown.replaceChildren(problem(e)); }
      } }, 'Add a secret (rotation)'));
    }
  } else if (can('developer')) {
    const jwk = el('textarea', { class: 'mono', id: 'jwk' }, JSON.stringify(a.jwks || {}, null, 1));
    kids.push(el('h2', {}, 'Public keys (private_key_jwt)'), el('form', { class: 'stack',
      onsubmit: async (ev) => {
        ev.preventDefault();
        try {
          await api('PATCH', '/tenants/' + t + '/apps/' + id, { jwks: JSON.parse(jwk.value) });
          toast('Keys saved');
        } catch (e) { shown.replaceChildren(problem(e)); }
      } }, field('JWK Set', jwk), el('button', { type: 'submit' }, 'Save keys')));
  }
  kids.push(el('h2', {}, 'Subscriptions'), table(['API', 'Scopes', 'State', 'Reason'], mine,
    (s) => [byId[s.api_id] ? byId[s.api_id].name + ' ' + byId[s.api_id].version : s.api_id,
      s.scopes.join(' '), badge(s.state), s.reason || '']));
  if (can('developer')) {
    const pick = el('select', { id: 'sub-api' }, cat.items.map((x) =>
      el('option', { value: x.id }, x.name + ' ' + x.version + ' (' + x.state + ')')));
    const scopes = el('input', { id: 'sub-scopes', placeholder: 'read write' });
    kids.push(el('form', { class: 'inline', onsubmit: async (ev) => {
      ev.preventDefault();
      try {
        const body = { app_id: id, api_id: pick.value };
        if (scopes.value.trim()) body.scopes = scopes.value.trim().split(/\s+/);
        await api('POST', '/tenants/' + t + '/subscriptions', body);
        toast('Subscription requested');
        route();
      } catch (e) { shown.replaceChildren(problem(e)); }
    } }, field('API', pick), field('Scopes (optional)', scopes),
    el('button', { type: 'submit', id: 'request-sub' }, 'Request subscription')));
  }
  const usable = mine.filter((s) => s.state === 'approved' && byId[s.api_id]);
  if (usable.length) {
    const pres = usable.map((s) => el('pre', { class: 'curl' }, curlFor(a, fresh, s, byId[s.api_id])));
    const gw = el('input', { id: 'gateway-url', type: 'url', value: localStorage.getItem('jg.gateway') ||
      'https://gateway.example.com', oninput: () => {
      localStorage.setItem('jg.gateway', gw.value.trim());
      usable.forEach((s, i) => { pres[i].textContent = curlFor(a, fresh, s, byId[s.api_id]); });
    } });
    kids.push(el('h2', {}, 'Try it'), field('Gateway base URL', gw), ...pres);
  }
  page(a.name, ...kids);
}

// ---- APIs (owners) -------------------------------------------------------------------

async function apis() {
  const t = state.tenant;
  const [list, subs] = await Promise.all([api('GET', '/tenants/' + t + '/apis'),
    api('GET', '/tenants/' + t + '/subscriptions')]);
  const live = (apiId) => subs.items.filter((s) => s.api_id === apiId && s.state === 'approved');
  const out = el('div', {});
  const move = async (a, to) => {
    const n = live(a.id).length;
    let sunset;
    let text;
    if (to === 'published') {
      text = 'Publish ' + a.name + ' ' + a.version + ': it appears in the catalogue and ' +
        'gateways route ' + a.base_path + ' to it.';
    } else if (to === 'deprecated') {
      const days = 30;
      sunset = Math.floor(Date.now() / 1000) + days * 86400;
      text = 'Deprecate it with a sunset on ' + when(sunset) + ': its ' + n + ' approved ' +
        'subscription(s) keep working until then, every response carries Deprecation and ' +
        'Sunset headers, and no new subscription can be requested.';
    } else {
      text = 'Retire it: gateways stop routing it at once (410) and its ' + n + ' approved ' +
        'subscription(s) stop working. This cannot be undone.';
    }
    if (!(await confirmDialog(to === 'published' ? 'Publish?' : to === 'deprecated'
      ? 'Deprecate?' : 'Retire?', text, to === 'published' ? 'Publish' : to === 'deprecated'
      ? 'Deprecate' : 'Retire', to === 'retired'))) return;
    try {
      const body = { state: to };
      if (sunset) body.sunset = sunset;
      await api('POST', '/tenants/' + t + '/apis/' + a.id + '/lifecycle', body);
      toast(a.name + ': ' + to);
      route();
    } catch (e) { out.replaceChildren(problem(e)); }
  };
  const next = { draft: ['published'], published: ['deprecated'], deprecated: ['retired'] };
  const upload = (a) => {
    const input = el('input', { type: 'file', accept: 'application/json,.json',
      'aria-label': 'OpenAPI document of ' + a.name, 'data-doc': a.id, onchange: async () => {
        try {
          const text = await input.files[0].text();
          await api('PUT', '/tenants/' + t + '/apis/' + a.id + '/openapi', JSON.parse(text));
          toast('OpenAPI document of ' + a.name + ' saved');
        } catch (e) { out.replaceChildren(problem(e)); }
      } });
    return el('label', { class: 'check' }, 'OpenAPI (JSON):', input);
  };
  const kids = [out, table(['API', 'State', 'Base path', 'Upstream', 'Scopes', 'Live subscriptions', ''],
    list.items, (a) => [el('strong', {}, a.name + ' ' + a.version),
      el('span', {}, badge(a.state), a.sunset ? ' sunset ' + when(a.sunset) : ''),
      el('code', {}, a.base_path), el('code', {}, a.upstream), a.scopes.join(' '),
      String(live(a.id).length),
      can('admin') ? el('div', { class: 'actions' }, (next[a.state] || []).map((to) =>
        el('button', { class: to === 'retired' ? 'danger' : '', 'data-api': a.id,
          'data-action': to, onclick: () => move(a, to) },
        to === 'published' ? 'Publish' : to === 'deprecated' ? 'Deprecate' : 'Retire')),
      a.state !== 'retired' ? upload(a) : null,
      el('a', { href: '#/doc/' + a.id }, 'Documentation')) : el('a', { href: '#/doc/' + a.id },
        'Documentation')])];
  if (can('admin')) {
    const f = {};
    for (const k of ['name', 'version', 'base_path', 'upstream', 'audience', 'scopes']) {
      f[k] = el('input', { id: 'api-' + k, required: k !== 'scopes' });
    }
    f.version.value = 'v1';
    const policy = el('select', { id: 'api-policy' }, el('option', { value: 'manual' },
      'manual approval'), el('option', { value: 'automatic' }, 'automatic'));
    kids.push(el('h2', {}, 'New API'), el('form', { class: 'stack', onsubmit: async (ev) => {
      ev.preventDefault();
      try {
        await api('POST', '/tenants/' + t + '/apis', { name: f.name.value,
          version: f.version.value, base_path: f.base_path.value, upstream: f.upstream.value,
          audience: f.audience.value, policy: policy.value,
          scopes: f.scopes.value.trim() ? f.scopes.value.trim().split(/\s+/) : [] });
        toast('API created (draft)');
        route();
      } catch (e) { out.replaceChildren(problem(e)); }
    } }, field('Name', f.name), field('Version', f.version),
    field('Base path (e.g. /orders)', f.base_path), field('Upstream URL', f.upstream),
    field('Audience (an absolute URI)', f.audience), field('Scopes (space-separated)', f.scopes),
    field('Subscriptions', policy), el('button', { type: 'submit', id: 'create-api' }, 'Create API')));
  }
  page('APIs', ...kids);
}

async function approvals() {
  const t = state.tenant;
  const subs = (await api('GET', '/tenants/' + t + '/subscriptions')).items;
  const pending = subs.filter((s) => s.api_tenant_id === t && s.state === 'pending');
  const apisById = Object.fromEntries((await api('GET', '/tenants/' + t + '/apis')).items
    .map((a) => [a.id, a]));
  const out = el('div', {});
  const decide = async (s, how, reason) => {
    try {
      await api('POST', '/tenants/' + t + '/subscriptions/' + s.id + '/' + how,
        reason ? { reason } : {});
      toast('Subscription ' + (how === 'approve' ? 'approved' : 'rejected'));
      route();
    } catch (e) { out.replaceChildren(problem(e)); }
  };
  page('Approval queue', out, pending.length ? table(['API', 'Application', 'Tenant', 'Scopes',
    'Requested', 'Decision'], pending, (s) => {
    const reason = el('input', { 'aria-label': 'Reason', placeholder: 'reason', 'data-sub': s.id,
      class: 'reason' });
    return [apisById[s.api_id] ? apisById[s.api_id].name : s.api_id, el('code', {}, s.app_id),
      el('code', {}, s.app_tenant_id), s.scopes.join(' '), when(s.requested_at),
      el('div', { class: 'actions' }, reason,
        el('button', { 'data-approve': s.id, onclick: () => decide(s, 'approve', reason.value) },
          'Approve'),
        el('button', { class: 'danger', 'data-reject': s.id,
          onclick: () => decide(s, 'reject', reason.value) }, 'Reject'))];
  }) : el('p', {}, 'Nothing waits for a decision.'));
}

// ---- Members -------------------------------------------------------------------------

async function members() {
  const t = state.tenant;
  const list = (await api('GET', '/tenants/' + t + '/members')).items;
  const out = el('div', {});
  const owner = can('owner');
  const kids = [out, table(['User', 'Role', 'Since', ''], list, (m) => {
    if (!owner) return [el('code', {}, m.user_id), m.role, when(m.created_at), ''];
    const sel = el('select', { 'aria-label': 'Role of ' + m.user_id, onchange: async () => {
      try { await api('PUT', '/tenants/' + t + '/members/' + m.user_id, { role: sel.value });
        toast('Role changed'); } catch (e) { out.replaceChildren(problem(e)); route(); }
    } }, ROLES.slice(1).map((r) => el('option', { value: r, selected: r === m.role }, r)));
    return [el('code', {}, m.user_id), sel, when(m.created_at), el('button', { class: 'danger',
      onclick: async () => {
        if (!(await confirmDialog('Remove member?', m.user_id + ' loses every role in this ' +
          'tenant.', 'Remove', true))) return;
        try { await api('DELETE', '/tenants/' + t + '/members/' + m.user_id); route(); }
        catch (e) { out.replaceChildren(problem(e)); }
      } }, 'Remove')];
  })];
  if (owner) {
    const user = el('input', { id: 'member-user', placeholder: 'user name or id' });
    const r = el('select', { id: 'member-role' }, ROLES.slice(1).map((x) =>
      el('option', { value: x, selected: x === 'developer' }, x)));
    kids.push(el('form', { class: 'inline', onsubmit: async (ev) => {
      ev.preventDefault();
      try { await api('POST', '/tenants/' + t + '/members', { user: user.value, role: r.value });
        route(); } catch (e) { out.replaceChildren(problem(e)); }
    } }, field('User', user), field('Role', r), el('button', { type: 'submit' }, 'Add member')));
  }
  page('Members and roles', ...kids);
}

// ---- Audit ---------------------------------------------------------------------------

function diff(before, after) {
  const show = (x) => el('pre', {}, x === null || x === undefined ? '-' : JSON.stringify(x, null, 1));
  return el('div', { class: 'diff' }, el('div', {}, el('strong', {}, 'Before'), show(before)),
    el('div', {}, el('strong', {}, 'After'), show(after)));
}

async function audit() {
  const f = { tenant: el('select', { id: 'audit-tenant' }), actor: el('input', { id: 'audit-actor' }),
    action: el('input', { id: 'audit-action', placeholder: 'e.g. subscription.' }),
    since: el('input', { id: 'audit-since', type: 'datetime-local' }) };
  if (state.me.system_admin) f.tenant.append(el('option', { value: '' }, 'every tenant'));
  for (const t of state.tenants.filter((x) => role(x.id) >= 3)) {
    f.tenant.append(el('option', { value: t.id, selected: t.id === state.tenant && !state.me.system_admin }, t.name));
  }
  const out = el('div', {});
  const load = async () => {
    const since = f.since.value ? Math.floor(Date.parse(f.since.value + 'Z') / 1000) : 0;
    const path = (f.tenant.value ? '/tenants/' + f.tenant.value + '/audit' : '/audit') +
      '?limit=1000' + (since ? '&since=' + since : '');
    try {
      const items = (await api('GET', path)).items.filter((e) =>
        (!f.actor.value || e.actor.includes(f.actor.value)) &&
        (!f.action.value || e.action.startsWith(f.action.value))).reverse();
      out.replaceChildren(el('p', { class: 'muted' }, items.length + ' entries, newest first'),
        table(['When', 'Actor', 'Action', 'Target', 'Change'], items, (e) => [when(e.at),
          el('code', {}, e.actor), el('strong', { class: 'action' }, e.action),
          el('code', {}, e.target || ''), el('details', {}, el('summary', {}, 'before / after'),
            diff(e.before, e.after))]));
    } catch (e) { out.replaceChildren(problem(e)); }
  };
  page('Audit log', el('form', { class: 'inline', onsubmit: (ev) => { ev.preventDefault(); load(); } },
    field('Tenant', f.tenant), field('Actor contains', f.actor), field('Action starts with', f.action),
    field('Since (UTC)', f.since), el('button', { type: 'submit' }, 'Filter')), out);
  await load();
}

// ---- Dashboard: tokens issued and refusals over time ----------------------------------

// Stacked bars, a column per minute, a segment per series; SVG made with DOM calls.
function chart(series, colors) {
  const W = 720, H = 220, P = 30;
  const n = series.length ? series[0].points.length : 0;
  const totals = Array.from({ length: n }, (_, k) => series.reduce((a, s) => a + s.points[k], 0));
  const max = Math.max(1, ...totals);
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
  svg.setAttribute('class', 'chart');
  svg.setAttribute('role', 'img');
  const mk = (tag, a) => {
    const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const [k, v] of Object.entries(a)) e.setAttribute(k, v);
    svg.append(e);
    return e;
  };
  mk('line', { x1: P, y1: H - P, x2: W - 5, y2: H - P, stroke: '#8c959f' });
  mk('text', { x: 2, y: 14, 'font-size': 12, fill: '#4b5563' }).textContent = String(max);
  mk('text', { x: 2, y: H - P, 'font-size': 12, fill: '#4b5563' }).textContent = '0';
  const step = (W - P - 5) / Math.max(1, n);
  const bw = Math.max(1, Math.min(24, step * 0.8));
  for (let k = 0; k < n; k++) {
    let y = H - P;
    series.forEach((s, i) => {
      const h = (s.points[k] * (H - 2 * P)) / max;
      if (h <= 0) return;
      y -= h;
      mk('rect', { x: (P + k * step + (step - bw) / 2).toFixed(1), y: y.toFixed(1),
        width: bw.toFixed(1), height: h.toFixed(1), fill: colors[i % colors.length] });
    });
  }
  if (n) {
    mk('text', { x: P, y: H - 8, 'font-size': 12, fill: '#4b5563' }).textContent =
      when(series[0].at[0]).slice(11);
    mk('text', { x: W - 80, y: H - 8, 'font-size': 12, fill: '#4b5563' }).textContent =
      when(series[0].at[n - 1]).slice(11);
  }
  svg.setAttribute('aria-label', series.map((s) => s.name + ': ' + s.points.reduce((a, b) => a + b, 0))
    .join(', '));
  return svg;
}

async function dashboard() {
  const colors = ['#0b57d0', '#b42318', '#8a4b00', '#1a7f37', '#6b21a8', '#0e7490'];
  const s = await api('GET', '/stats');
  const at = s.minutes.map((m) => m.at);
  const issued = [{ name: 'tokens issued', at, points: s.minutes.map((m) => m.issued) }];
  const reasons = [...new Set(s.minutes.flatMap((m) => Object.keys(m.refused)))];
  const refused = reasons.map((r) => ({ name: r, at,
    points: s.minutes.map((m) => m.refused[r] || 0) }));
  const legend = (ser, offset) => el('div', { class: 'legend' }, ser.map((x, i) =>
    el('span', { class: 'c' + (i + offset) }, x.name + ' (' +
      x.points.reduce((a, b) => a + b, 0) + ')')));
  page('Dashboard', el('p', { class: 'muted' }, 'The last ' + s.minutes.length + ' minutes of ' +
    'this node, a point per minute (since ' + when(s.since) + ').'),
  el('h2', {}, 'Tokens issued'), chart(issued, colors), legend(issued, 0),
  el('h2', {}, 'Refusals by reason'), refused.length ? [chart(refused, colors.slice(1)),
    legend(refused, 1)] : el('p', {}, 'No refusals.'));
}

// ---- Administration ------------------------------------------------------------------

async function tenants() {
  const list = (await api('GET', '/tenants')).items;
  const out = el('div', {});
  const name = el('input', { id: 'tenant-name', required: true });
  const owner = el('input', { id: 'tenant-owner', placeholder: 'user name (optional)' });
  page('Tenants', out, table(['Tenant', 'id', 'Created'], list, (t) => [t.name,
    el('code', {}, t.id), when(t.created_at)]),
  el('form', { class: 'inline', onsubmit: async (ev) => {
    ev.preventDefault();
    try {
      const body = { name: name.value };
      if (owner.value) body.owner = owner.value;
      await api('POST', '/tenants', body);
      state.tenants = (await api('GET', '/tenants')).items;
      route();
    } catch (e) { out.replaceChildren(problem(e)); }
  } }, field('Name', name), field('Owner', owner), el('button', { type: 'submit' }, 'Create tenant')));
}

async function users() {
  const list = (await api('GET', '/users')).items;
  const out = el('div', {});
  const name = el('input', { id: 'user-name', required: true });
  page('Users', out, table(['User', 'id', 'System administrator', ''], list, (u) => [u.name,
    el('code', {}, u.id), u.system_admin ? 'yes' : '', el('div', { class: 'actions' },
      el('button', { class: 'secondary', 'data-reset': u.name, onclick: async () => {
        if (!(await confirmDialog('New first-login password?', u.name + '\'s sessions end and ' +
          'the user must choose a new password at the next sign-in.', 'Reset password'))) return;
        try {
          const r = await api('PUT', '/users/' + u.id + '/password', {});
          out.replaceChildren(secretBox('First-login password of ' + u.name, r.password,
            'Shown once: give it to ' + u.name + ' by a safe channel.'));
        } catch (e) { out.replaceChildren(problem(e)); }
      } }, 'Reset password'),
      el('button', { class: 'secondary', onclick: async () => {
        try { await api('DELETE', '/users/' + u.id + '/sessions'); toast('Sessions ended'); }
        catch (e) { out.replaceChildren(problem(e)); }
      } }, 'End sessions'))]),
  el('form', { class: 'inline', onsubmit: async (ev) => {
    ev.preventDefault();
    try {
      const u = await api('POST', '/users', { name: name.value });
      const r = await api('PUT', '/users/' + u.id + '/password', {});
      await users();
      main().prepend(secretBox('First-login password of ' + u.name, r.password,
        'Shown once: give it to ' + u.name + ' by a safe channel.'));
    } catch (e) { out.replaceChildren(problem(e)); }
  } }, field('Name', name), el('button', { type: 'submit', id: 'create-user' }, 'Create user')));
}

async function keys() {
  const list = (await api('GET', '/keys')).items;
  const out = el('div', {});
  page('Keys and rotation', out, table(['kid', 'Purpose', 'alg', 'State', 'Created', 'Activated',
    'Retiring', 'Retired'], list, (k) => [el('code', {}, k.id.slice(0, 16) + '...'), k.purpose, k.alg,
    badge(k.state), when(k.created_at), when(k.activated_at), when(k.retiring_at),
    when(k.retired_at)]),
  el('div', { class: 'actions' }, ['signing', 'encryption'].map((p) => el('button', {
    class: 'secondary', onclick: async () => {
      if (!(await confirmDialog('Rotate the ' + p + ' key?', 'The next key becomes active, the ' +
        'active one retiring (still accepted until the tokens it made expire), and a new next ' +
        'key is made.', 'Rotate'))) return;
      try { await api('POST', '/keys/rotate', { purpose: p }); route(); }
      catch (e) { out.replaceChildren(problem(e)); }
    } }, 'Rotate ' + p))));
}

async function gateways() {
  const list = (await api('GET', '/gateways')).items;
  page('Gateways on other hosts', table(['Name', 'id', 'State', 'Registered', 'Revoked'], list,
    (g) => [g.name, el('code', {}, g.id), badge(g.state), when(g.created_at), when(g.revoked_at)]),
  el('p', { class: 'muted' }, 'Register one with ', el('code', {}, 'jwtgate admin gateway create NAME'),
    ': its private key is made where it runs.'));
}

// ---- Boot ----------------------------------------------------------------------------

window.addEventListener('hashchange', route);
(async () => {
  try {
    state.session = await api('GET', '/session');
    await start();
  } catch (e) {
    if (!state.session) signIn();
  }
})();
