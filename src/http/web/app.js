// simplejwt browser-session example: plain JavaScript, no build step.
//
// The tokens are in HttpOnly cookies this script cannot read. It keeps only
// the access token's expiry (in localStorage, shared by the tabs; not a
// secret), refreshes shortly before it, retries a call once after a 401, and
// lets one tab at a time refresh (Web Locks), so tabs never race each other
// into a rotated-out refresh token. Unsafe requests echo the readable CSRF
// cookie in the CSRF header (double submit).
'use strict';

const meta = (name) => document.querySelector(`meta[name="${name}"]`).content;
const CSRF_COOKIE = meta('simplejwt-csrf-cookie');
const CSRF_HEADER = meta('simplejwt-csrf-header');
const EXPIRY_KEY = 'simplejwt.access-expiry';
const LOCK = 'simplejwt-refresh';

const $ = (id) => document.getElementById(id);
let timer = null;
let refreshes = 0;

function say(text) {
  $('status').textContent = text;
}

function csrfToken() {
  for (const part of document.cookie.split('; ')) {
    const eq = part.indexOf('=');
    if (part.slice(0, eq) === CSRF_COOKIE) return decodeURIComponent(part.slice(eq + 1));
  }
  return '';
}

// One request to the API: cookies go along (same origin), unsafe methods
// carry the CSRF header. Answers {status, data}.
async function send(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET') headers[CSRF_HEADER] = csrfToken();
  const res = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = null;
  try {
    data = await res.json();
  } catch (_) {
    data = null;
  }
  return { status: res.status, data };
}

function expiry() {
  try {
    return JSON.parse(localStorage.getItem(EXPIRY_KEY));
  } catch (_) {
    return null;
  }
}

// Keeps the expiry of the access token of a login or refresh answer; the
// token itself is not kept (the cookie carries it).
function keepExpiry(access) {
  const part = access.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
  const claims = JSON.parse(atob(part));
  const value = { exp: claims.exp * 1000, lifetime: (claims.exp - claims.iat) * 1000 };
  localStorage.setItem(EXPIRY_KEY, JSON.stringify(value));
  schedule();
}

// Refresh "at the 29th minute of 30": a minute before expiry, or at three
// quarters of a shorter lifetime.
function schedule() {
  clearTimeout(timer);
  const e = expiry();
  if (!e) return;
  const margin = Math.min(60000, e.lifetime / 4);
  $('expiry').textContent = new Date(e.exp).toLocaleTimeString();
  timer = setTimeout(() => timedRefresh(e.exp), Math.max(0, e.exp - margin - Date.now()));
}

async function timedRefresh(seenExp) {
  if (!(await refresh(seenExp))) loggedOut('Your session has ended. Please log in again.');
}

// Refreshes unless another tab already did since this tab saw `seenExp`.
// The lock makes the tabs take turns: the second finds the new expiry and
// does not send the (possibly rotated-out) refresh token again.
async function refresh(seenExp) {
  const run = async () => {
    const e = expiry();
    if (e && seenExp !== undefined && e.exp > seenExp) {
      schedule();
      return true;
    }
    const r = await send('POST', '/api/token/refresh/', {});
    if (r.status !== 200) return false;
    refreshes += 1;
    $('refreshes').textContent = String(refreshes);
    keepExpiry(r.data.access);
    return true;
  };
  return navigator.locks ? navigator.locks.request(LOCK, run) : run();
}

// The protected call, retried once after a refresh when it answers 401.
async function callProtected() {
  const seen = expiry();
  let r = await send('GET', '/api/protected/');
  if (r.status === 401 && (await refresh(seen ? seen.exp : undefined))) {
    r = await send('GET', '/api/protected/');
  }
  if (r.status === 200) {
    $('answer').textContent = r.data.message;
    loggedIn();
  } else {
    loggedOut('Please log in.');
  }
  return r.status;
}

function loggedIn() {
  $('login').hidden = true;
  $('session').hidden = false;
  say('You are logged in.');
  schedule();
  showDevices();
}

function loggedOut(message) {
  clearTimeout(timer);
  $('session').hidden = true;
  $('devices').hidden = true;
  $('login').hidden = false;
  $('answer').textContent = '';
  say(message);
}

$('login').addEventListener('submit', async (event) => {
  event.preventDefault();
  say('Logging in…');
  const r = await send('POST', '/api/token/', {
    username: $('username').value,
    password: $('password').value,
    remember: $('remember').checked,
  });
  $('password').value = '';
  if (r.status !== 200) {
    say((r.data && r.data.detail) || `Login failed (${r.status}).`);
    $('username').focus();
    return;
  }
  keepExpiry(r.data.access);
  await callProtected();
  $('call').focus();
});

$('call').addEventListener('click', callProtected);

// The device list (GET /api/sessions/): built with textContent only, since
// user agents are text from other clients.
async function showDevices() {
  const r = await send('GET', '/api/sessions/');
  if (r.status !== 200 || !Array.isArray(r.data)) return;
  const rows = r.data.map((s) => {
    const row = document.createElement('tr');
    const when = (t) => new Date(t * 1000).toLocaleString();
    const cells = [s.user_agent || 'unknown', s.ip || '', when(s.created), when(s.last_used)];
    for (const text of cells) {
      const cell = document.createElement('td');
      cell.textContent = text;
      row.append(cell);
    }
    const action = document.createElement('td');
    if (s.current) {
      action.textContent = 'this browser';
    } else {
      const end = document.createElement('button');
      end.type = 'button';
      end.textContent = 'Log out';
      end.setAttribute('aria-label', `Log out ${cells[0]} from ${cells[1]}`);
      end.addEventListener('click', async () => {
        await send('DELETE', `/api/sessions/${encodeURIComponent(s.id)}/`);
        showDevices();
      });
      action.append(end);
    }
    row.append(action);
    return row;
  });
  $('device-rows').replaceChildren(...rows);
  $('devices').hidden = false;
}

$('logout-others').addEventListener('click', async () => {
  await send('POST', '/api/token/logout/?scope=others', {});
  showDevices();
});

// Logout ends this browser's session (the answer clears the cookies). It
// takes the lock too, so no tab refreshes while the token is revoked.
$('logout').addEventListener('click', async () => {
  const run = () => send('POST', '/api/token/logout/', {});
  await (navigator.locks ? navigator.locks.request(LOCK, run) : run());
  localStorage.removeItem(EXPIRY_KEY);
  loggedOut('You are logged out.');
  $('username').focus();
});

// Another tab logged in, refreshed or logged out.
window.addEventListener('storage', (event) => {
  if (event.key !== EXPIRY_KEY) return;
  if (event.newValue) {
    if ($('session').hidden) callProtected();
    else schedule();
  } else {
    loggedOut('You are logged out.');
  }
});

callProtected();
