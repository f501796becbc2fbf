// The sample app's page: plain JS, no build step. Tokens live in HttpOnly cookies set by the
// nestjs-ezid callback controller (cookie mode); this script never sees them.
'use strict';

const $ = (id) => document.getElementById(id);
const AUTH = '/auth/ezid';
let codeState = null;

async function call(method, path, body) {
  const res = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: body ? { 'Content-Type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await res.json().catch(() => null);
  return { status: res.status, body: json };
}

function text(el, value) {
  el.textContent = value;
  return el;
}

function el(tag, attrs = {}, children = []) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'text') node.textContent = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

async function refreshInbox() {
  const { status, body } = await call('GET', '/dev/inbox');
  if (status !== 200 || !body) return;
  $('dev-inbox').hidden = false;
  const list = $('inbox-messages');
  list.replaceChildren(
    ...body.messages.map((m) => {
      const item = el('li', { 'data-kind': m.kind });
      item.append(text(el('strong'), `${m.kind} to ${m.to}: `));
      if (m.link) item.append(el('a', { href: m.link, class: 'magic-link', text: 'Open the magic link' }));
      if (m.code && !m.link) item.append(el('code', { class: 'code', text: m.code }));
      return item;
    }),
  );
  if (!body.messages.length) list.replaceChildren(el('li', { text: 'Nothing yet.' }));
}

function showResult(label, status, body) {
  const ok = status >= 200 && status < 300;
  const detail = ok
    ? JSON.stringify(body)
    : `${body && body.code ? body.code : ''} ${body && body.message ? body.message : ''}`;
  const item = el('li', { class: 'result', 'data-status': String(status) });
  item.append(text(el('span', { class: ok ? 'ok' : 'denied' }), String(status)), ` ${label} `, detail);
  $('results').prepend(item);
}

function renderUser(user) {
  $('signed-out').hidden = true;
  $('signed-in').hidden = false;
  const profile = $('profile');
  profile.replaceChildren();
  for (const [k, v] of [
    ['Name', [user.firstName, user.lastName].filter(Boolean).join(' ') || '—'],
    ['Email', user.email || '—'],
    ['User id', user.id],
  ]) {
    profile.append(el('dt', { text: k }), el('dd', { text: v }));
  }
  const rows = (user.tenants || []).map((t) => {
    const actions = el('td');
    for (const [method, path, route, payload] of [
      ['GET', 'projects', 'projects'],
      ['GET', 'settings', 'settings'],
      ['GET', 'billing', 'billing'],
      ['POST', 'projects', 'add-project', { name: 'New project' }],
    ]) {
      const button = el('button', {
        class: 'call',
        type: 'button',
        'data-tenant': t.name,
        'data-route': route,
        text: `${method} ${path}`,
      });
      button.addEventListener('click', async () => {
        const url = `/orgs/${encodeURIComponent(t.id)}/${path}`;
        const { status, body } = await call(method, url, payload);
        showResult(`${method} ${url} (${t.name})`, status, body);
      });
      actions.append(button);
    }
    const permissions = [...new Set(t.roles.flatMap((r) => r.permissions))];
    return el('tr', { 'data-tenant': t.name }, [
      el('td', {}, [
        text(el('span'), `${t.name} (${t.status}) `),
        el('code', { class: 'tenant-id', title: 'Tenant id: routes take this, not the name', text: t.id }),
      ]),
      el('td', { text: t.roles.map((r) => r.name).join(', ') || '—' }),
      el('td', { text: permissions.join(', ') || '—' }),
      actions,
    ]);
  });
  $('tenants')
    .querySelector('tbody')
    .replaceChildren(...rows);
}

function showSignedOut(message) {
  $('signed-in').hidden = true;
  $('signed-out').hidden = false;
  if (message) $('login-status').textContent = message;
}

async function loadMe() {
  // 200 { user: null } when signed out (no failed request in the console); a stale cookie is a 401.
  const { status, body } = await call('GET', '/api/session');
  if (status === 200 && body && body.user) renderUser(body.user);
  else showSignedOut();
}

$('login-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const email = $('email').value.trim();
  const { status, body } = await call('POST', `${AUTH}/magic-link`, { email });
  $('login-status').textContent =
    status < 300
      ? `Check your inbox: we sent a sign-in link to ${email}.`
      : `Could not send the link (${status} ${body && body.code}).`;
  refreshInbox();
});

$('send-code').addEventListener('click', async () => {
  const email = $('email').value.trim();
  const { status, body } = await call('POST', `${AUTH}/email-code`, { email });
  if (status < 300 && body && body.state) {
    codeState = body.state;
    $('code-form').hidden = false;
    $('login-status').textContent = `Check your inbox: we sent a code to ${email}.`;
  } else {
    $('login-status').textContent = `Could not send the code (${status} ${body && body.code}).`;
  }
  refreshInbox();
});

$('code-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const { status, body } = await call('POST', `${AUTH}/email-code/verify`, {
    state: codeState,
    code: $('code').value.trim(),
  });
  if (status < 300) {
    $('code-form').hidden = true;
    await loadMe();
  } else {
    $('login-status').textContent = `That code did not work (${status} ${body && body.code}).`;
  }
});

$('sign-out').addEventListener('click', async () => {
  await call('POST', `${AUTH}/logout`);
  $('results').replaceChildren();
  showSignedOut('Signed out.');
});

// A failed sign-in link lands here as /?ezid_error=<code> (callback.errorRedirect): say what happened,
// then drop the parameter so a reload does not show it again.
const SIGN_IN_ERRORS = {
  invalid_code: 'This sign-in link was already used or has expired. Send yourself a new one.',
  invalid_request:
    'This sign-in link was opened in another browser, already used here, or is too old. Send yourself a new one.',
  validation_failed: 'This sign-in link is incomplete. Send yourself a new one.',
  idp_unavailable: 'The sign-in service is unavailable right now. Try again in a moment.',
  rate_limited: 'Too many attempts. Wait a minute, then try again.',
};
const signInError = new window.URLSearchParams(window.location.search).get('ezid_error');
if (signInError) {
  const message = SIGN_IN_ERRORS[signInError] || 'Sign-in failed. Send yourself a new link.';
  $('login-error').textContent = message;
  $('login-error').dataset.code = signInError;
  $('login-error').hidden = false;
  window.history.replaceState(null, '', window.location.pathname);
}

loadMe();
refreshInbox();
setInterval(() => {
  if (!$('dev-inbox').hidden && !$('signed-out').hidden) refreshInbox();
}, 1500);
