// The example page at / in a real headless Chromium (Debian's `chromium`),
// driven by playwright-core, against a running `simplejwt serve` with
// AUTH_COOKIE on, a 2-second access lifetime, rotation and blacklisting
// (run.sh starts it and sets BASE_URL). Each test is one bullet of issue 16.
// Waits are for conditions with deadlines, never for fixed times.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const BASE = process.env.BASE_URL;
const USER = process.env.TEST_USER || 'alice';
const PASSWORD = process.env.TEST_PASSWORD;
const USER2 = process.env.TEST_USER2 || 'bob';
const EXECUTABLE = process.env.CHROMIUM || '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-dev-shm-usage'];
// Several 2-second expiries, with room for a loaded machine.
const EXPIRIES_DEADLINE = 60_000;

assert.ok(BASE, 'BASE_URL is set (run tests/browser/run.sh)');
assert.ok(PASSWORD, 'TEST_PASSWORD is set');

let browser;
before(async () => {
  browser = await chromium.launch({ executablePath: EXECUTABLE, args: ARGS });
});
after(async () => {
  await browser?.close();
});

async function login(page, { remember = false, user = USER } = {}) {
  await page.goto(BASE + '/');
  await page.getByLabel('Username').fill(user);
  await page.getByLabel('Password').fill(PASSWORD);
  if (remember) await page.getByLabel('Stay logged in').check();
  await page.getByRole('button', { name: 'Log in' }).click();
  await welcomed(page, user);
}

// The page shows the protected endpoint's answer.
async function welcomed(page, user = USER) {
  await page.locator('#answer').filter({ hasText: `Welcome, ${user}!` }).waitFor({ timeout: 15_000 });
}

async function callProtected(page) {
  await page.locator('#answer').evaluate((el) => (el.textContent = ''));
  await page.getByRole('button', { name: 'Call the protected endpoint' }).click();
  await welcomed(page);
}

async function refreshCount(page) {
  return Number(await page.locator('#refreshes').textContent());
}

// Every answer of the refresh endpoint the page got.
function refreshStatuses(page) {
  const statuses = [];
  page.on('response', (r) => {
    if (r.url().endsWith('/api/token/refresh/')) statuses.push(r.status());
  });
  return statuses;
}

test('login sets cookies that document.cookie cannot read', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await login(page);
  const cookies = await context.cookies();
  const byName = Object.fromEntries(cookies.map((c) => [c.name, c]));
  for (const name of ['access', 'refresh']) {
    assert.ok(byName[name], `${name} cookie set`);
    assert.equal(byName[name].httpOnly, true, `${name} is HttpOnly`);
    assert.equal(byName[name].sameSite, 'Lax');
  }
  assert.equal(byName.refresh.path, '/api/token/');
  assert.equal(byName.csrftoken.httpOnly, false);
  const visible = await page.evaluate(() => document.cookie);
  assert.doesNotMatch(visible, /(^|; )access=/);
  assert.doesNotMatch(visible, /(^|; )refresh=/);
  assert.match(visible, /csrftoken=/, 'the CSRF cookie is the one the page reads');
  // The page keeps no token either.
  const stored = await page.evaluate(() => JSON.stringify(localStorage));
  assert.doesNotMatch(stored, new RegExp(byName.access.value.split('.')[2]));
  await context.close();
});

test('the protected call works, and keeps working past several expiries without a new login', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const statuses = refreshStatuses(page);
  await login(page);
  statuses.length = 0; // the page's first load tried a refresh without cookies: 400
  await callProtected(page);
  const deadline = Date.now() + EXPIRIES_DEADLINE;
  while ((await refreshCount(page)) < 4) {
    assert.ok(Date.now() < deadline, 'the page refreshes before each expiry');
    await callProtected(page);
    await page.waitForFunction((n) => Number(document.querySelector('#refreshes').textContent) > n,
      await refreshCount(page), { timeout: 15_000 });
  }
  await callProtected(page);
  assert.equal(await page.getByRole('button', { name: 'Log in' }).isVisible(), false);
  // `SCREENSHOT=docs/browser-session.png tests/browser/run.sh` refreshes the README's picture.
  if (process.env.SCREENSHOT) {
    await page.setViewportSize({ width: 900, height: 700 });
    await page.screenshot({ path: process.env.SCREENSHOT, fullPage: true });
  }
  assert.ok(statuses.length >= 4 && statuses.every((s) => s === 200), `refreshes: ${statuses}`);
  await context.close();
});

test('a call after the access token expired is retried once after a refresh', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await login(page);
  // Stop the timer and wait for the token to expire: the next call gets 401,
  // refreshes, and retries.
  await page.evaluate(() => {
    for (let id = setTimeout(() => {}, 0); id > 0; id -= 1) clearTimeout(id);
  });
  const exp = await page.evaluate(() => JSON.parse(localStorage.getItem('simplejwt.access-expiry')).exp);
  await page.waitForFunction((t) => Date.now() > t + 1000, exp, { timeout: 15_000 });
  const seen = [];
  page.on('response', (r) => {
    const path = new URL(r.url()).pathname;
    if (path !== '/api/sessions/') seen.push(`${path} ${r.status()}`);
  });
  await callProtected(page);
  assert.deepEqual(seen, ['/api/protected/ 401', '/api/token/refresh/ 200', '/api/protected/ 200']);
  await context.close();
});

test('two tabs across several expiries, with rotation and blacklisting, never log the user out', async () => {
  const context = await browser.newContext();
  const first = await context.newPage();
  const firstStatuses = refreshStatuses(first);
  await login(first);
  firstStatuses.length = 0; // the first load, before login: 400
  const second = await context.newPage();
  const secondStatuses = refreshStatuses(second);
  await second.goto(BASE + '/');
  await welcomed(second);
  const refreshed = (page) =>
    page.waitForResponse((r) => r.url().endsWith('/api/token/refresh/'), { timeout: 15_000 });
  const deadline = Date.now() + EXPIRIES_DEADLINE;
  while (firstStatuses.length + secondStatuses.length < 6) {
    assert.ok(Date.now() < deadline, 'the tabs keep refreshing');
    await Promise.all([callProtected(first), callProtected(second)]);
    await Promise.race([refreshed(first), refreshed(second)]);
  }
  for (const page of [first, second]) {
    await callProtected(page);
    assert.equal(await page.locator('#login').isVisible(), false, 'still logged in');
  }
  const all = [...firstStatuses, ...secondStatuses];
  assert.ok(all.every((s) => s === 200), `every refresh succeeded: ${all}`);
  await context.close();
});

// A page on another origin that posts a form to the API (a CSRF attack).
function attacker(target) {
  const server = http.createServer((_, res) => {
    res.setHeader('content-type', 'text/html');
    res.end(`<!doctype html><form id="f" method="POST" action="${target}">
      <input name="refresh" value=""><button>go</button></form>`);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

test('a form posted from another origin is refused and changes nothing', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await login(page);
  const server = await attacker(BASE + '/api/token/blacklist/');
  try {
    const port = server.address().port;
    // Same site, other origin (another port): the browser sends the Lax cookies.
    const evil = await context.newPage();
    await evil.goto(`http://localhost:${port}/`);
    const [response] = await Promise.all([
      evil.waitForNavigation(),
      evil.locator('#f').evaluate((f) => f.submit()),
    ]);
    assert.equal(response.status(), 403);
    assert.match(await evil.textContent('body'), /CSRF Failed: Origin checking failed/);
    // Another site altogether: no cookie is sent, so there is nothing to revoke.
    await evil.goto(`http://127.0.0.1:${port}/`);
    const [other] = await Promise.all([
      evil.waitForNavigation(),
      evil.locator('#f').evaluate((f) => f.submit()),
    ]);
    assert.notEqual(other.status(), 200);
    // The session is intact: the refresh token was neither revoked nor rotated.
    const names = (await context.cookies()).map((c) => c.name);
    assert.ok(names.includes('refresh') && names.includes('access'));
    await callProtected(page);
    await page.waitForFunction(() => Number(document.querySelector('#refreshes').textContent) >= 1,
      null, { timeout: 15_000 });
    await callProtected(page);
  } finally {
    server.close();
  }
  await context.close();
});

async function restart(remember) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'simplejwt-profile-'));
  try {
    const launch = () => chromium.launchPersistentContext(profile, { executablePath: EXECUTABLE, args: ARGS });
    let context = await launch();
    const page = context.pages()[0] || (await context.newPage());
    await login(page, { remember });
    await context.close();
    context = await launch();
    const again = context.pages()[0] || (await context.newPage());
    await again.goto(BASE + '/');
    await again.locator('#status').filter({ hasText: /logged in|log in/i }).waitFor({ timeout: 15_000 });
    const loggedIn = await again.locator('#session').isVisible();
    const names = (await context.cookies()).map((c) => c.name);
    await context.close();
    return { loggedIn, names };
  } finally {
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

test('with "stay logged in" the session survives closing and reopening the browser', async () => {
  const { loggedIn, names } = await restart(true);
  assert.equal(loggedIn, true, `cookies after restart: ${names}`);
});

test('without "stay logged in" closing the browser ends the session', async () => {
  const { loggedIn, names } = await restart(false);
  assert.equal(loggedIn, false);
  assert.ok(!names.includes('refresh') && !names.includes('access'), `cookies: ${names}`);
});

test('the device list shows both browsers, and ending the other one logs it out', async () => {
  const mine = await browser.newContext();
  const theirs = await browser.newContext();
  // A user of its own: the other tests leave sessions of theirs behind.
  const other = await theirs.newPage();
  await login(other, { user: USER2 });
  const page = await mine.newPage();
  await login(page, { user: USER2 });
  const rows = page.locator('#device-rows tr');
  await rows.nth(1).waitFor();
  assert.equal(await rows.count(), 2);
  await page.locator('#device-rows').getByText('this browser').waitFor();
  await page.locator('#device-rows').getByRole('button', { name: /^Log out .* from / }).click();
  await rows.nth(1).waitFor({ state: 'detached' });
  // The other browser's next refresh is refused: it asks for a login.
  await other.getByRole('button', { name: 'Log in' }).waitFor({ timeout: 15_000 });
  await page.getByRole('button', { name: 'Call the protected endpoint' }).click();
  await welcomed(page, USER2);
  await mine.close();
  await theirs.close();
});

test('logout leaves no cookie that still works', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await login(page, { remember: true });
  const kept = await context.cookies();
  await page.getByRole('button', { name: 'Log out', exact: true }).click();
  await page.locator('#status').filter({ hasText: 'You are logged out.' }).waitFor();
  const left = (await context.cookies()).map((c) => c.name);
  assert.deepEqual(left, [], 'every cookie is cleared');
  // Replaying the cookies saved before logout: the refresh token is revoked,
  // and the access token stops at its expiry (2 s).
  const jar = kept.map((c) => `${c.name}=${c.value}`).join('; ');
  const csrf = kept.find((c) => c.name === 'csrftoken').value;
  const replay = await fetch(BASE + '/api/token/refresh/', {
    method: 'POST',
    headers: { cookie: jar, 'x-csrftoken': csrf, 'content-type': 'application/json' },
    body: '{}',
  });
  assert.equal(replay.status, 401);
  const exp = JSON.parse(Buffer.from(kept.find((c) => c.name === 'access').value.split('.')[1], 'base64url')).exp;
  await page.waitForFunction((t) => Date.now() > t * 1000 + 1000, exp, { timeout: 15_000 });
  const access = await fetch(BASE + '/api/protected/', { headers: { cookie: jar } });
  assert.equal(access.status, 401);
  // And the page, reloaded, asks for a login.
  await page.goto(BASE + '/');
  await page.getByRole('button', { name: 'Log in' }).waitFor();
  await context.close();
});
