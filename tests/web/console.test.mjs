#!/usr/bin/env node
// Real-browser test of the web console against a running host: headless Chromium drives the
// console while punktfunk-probe pairs and streams, so the page is checked against the real API,
// the real event stream and a real session. Exits 0 when every step passed, 1 otherwise.
//
// Environment (the Rust harness sets it):
//   PF_CONSOLE_URL       https://127.0.0.1:PORT/  (self-signed certificate)
//   PF_CONSOLE_PASSWORD  console password
//   PF_PROBE             path of the punktfunk-probe binary
//   PF_NATIVE_ADDR       HOST:PORT of the native plane
//   PF_CLIENT_DIR        scratch dir for the probe's identity (PUNKTFUNK_CLIENT_CONFIG_DIR)
//   PF_ARTIFACTS         where screenshots go
//   CHROMIUM             browser binary (default /usr/bin/chromium)
//   PF_TEST_TIMEOUT_S    overall limit (default 240)

import { chromium } from 'playwright-core';
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

const DEVICE_NAME = 'web test device';
const RENAMED = 'renamed device';
const STEP_TIMEOUT_MS = 15000;

const children = new Set();
let browser = null;
let page = null;
let currentStep = 'setup';
const browserLog = [];
const pageErrors = [];
const foreignRequests = [];

function log(line) {
  process.stdout.write(`[console-test] ${line}\n`);
}

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}

class StepFailure extends Error {}
function check(condition, message) {
  if (!condition) throw new StepFailure(message);
}

async function step(name, fn) {
  currentStep = name;
  const t0 = Date.now();
  log(`> ${name}`);
  await fn();
  // Uncaught errors in the page fail the step they happened in.
  check(pageErrors.length === 0, `uncaught error in the page: ${pageErrors.join(' | ')}`);
  check(foreignRequests.length === 0, `the console requested another origin: ${foreignRequests.join(', ')}`);
  log(`ok ${name} (${Date.now() - t0} ms)`);
}

/** Runs the probe; resolves with its exit code and output (never rejects on a non-zero exit). */
function probe(args, { env, timeoutMs }) {
  return new Promise((resolve, reject) => {
    const child = spawn(env.probe, args, {
      env: { ...process.env, PUNKTFUNK_CLIENT_CONFIG_DIR: env.clientDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      children.delete(child);
      reject(new Error(`cannot run ${env.probe}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

function describeRun(r) {
  const tail = (s) => s.trim().split('\n').slice(-8).join('\n    ');
  return `exit ${r.code ?? r.signal}\n  stdout:\n    ${tail(r.stdout)}\n  stderr:\n    ${tail(r.stderr)}`;
}

function lastJsonLine(text) {
  const lines = text.trim().split('\n').reverse();
  for (const line of lines) {
    try {
      return JSON.parse(line);
    } catch {
      /* not JSON */
    }
  }
  return null;
}

async function waitFor(what, predicate, timeoutMs = STEP_TIMEOUT_MS, intervalMs = 100) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await predicate();
    if (value) return value;
    if (Date.now() > end) throw new StepFailure(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

async function gotoNav(name) {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true }).click();
  await page.getByRole('heading', { level: 1, name, exact: true }).waitFor();
}

async function apiGet(pathname) {
  return page.evaluate(async (p) => {
    const res = await fetch(p, { credentials: 'same-origin', cache: 'no-store' });
    return { status: res.status, body: await res.json().catch(() => null) };
  }, pathname);
}

async function assertNoReload() {
  const marker = await page.evaluate(() => window.__pfNoReloadMarker);
  check(marker === 'set-after-sign-in', 'the page was reloaded (the marker set after sign-in is gone)');
}

async function main() {
  const env = {
    url: required('PF_CONSOLE_URL'),
    password: required('PF_CONSOLE_PASSWORD'),
    probe: required('PF_PROBE'),
    nativeAddr: required('PF_NATIVE_ADDR'),
    clientDir: required('PF_CLIENT_DIR'),
    artifacts: required('PF_ARTIFACTS'),
    chromium: process.env.CHROMIUM || '/usr/bin/chromium',
  };
  mkdirSync(env.artifacts, { recursive: true });
  mkdirSync(env.clientDir, { recursive: true });
  const origin = new URL(env.url).origin;

  browser = await chromium.launch({ executablePath: env.chromium, headless: true, args: ['--no-sandbox'] });
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT_MS);
  page.on('pageerror', (e) => pageErrors.push(String(e && e.message ? e.message : e)));
  page.on('console', (m) => browserLog.push(`${m.type()}: ${m.text()}`));
  page.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith('data:') && !u.startsWith('blob:') && new URL(u).origin !== origin) foreignRequests.push(u);
  });

  await step('1. open the console and sign in', async () => {
    await page.goto(env.url);
    const password = page.getByLabel('Console password');
    await password.waitFor();
    // A wrong password first: the page has to say so and stay on sign-in.
    await password.fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const error = page.getByTestId('signin-error');
    await error.waitFor();
    check((await error.textContent()).trim().length > 0, 'no message after a wrong password');

    const submit = page.getByTestId('signin-submit');
    for (let attempt = 1; ; attempt++) {
      // A throttled attempt (429) keeps the button off until retry_after_s has passed.
      await waitFor('the sign-in button to be enabled', () => submit.isEnabled(), 65000, 250);
      await password.fill(env.password);
      await submit.click();
      // One look at the page per poll: the sign-in form is gone the moment it works.
      const outcome = await waitFor('the dashboard after sign-in', () =>
        page.evaluate(() => {
          if (document.querySelector('main[data-page="dashboard"] h1')) return 'in';
          const b = document.querySelector('[data-testid="signin-submit"]');
          const e = document.querySelector('[data-testid="signin-error"]');
          if (b && b.disabled && /Wait \d+ s/.test(b.textContent)) return 'throttled';
          if (b && !b.disabled && e && !e.hidden) return `refused: ${e.textContent}`;
          return null;
        }),
      );
      check(!outcome.startsWith('refused'), `sign-in ${outcome}`);
      if (outcome === 'in') break;
      check(attempt < 3, `sign-in still throttled after ${attempt} attempts: ${await error.textContent()}`);
      log(`  throttled: ${(await error.textContent()).trim()}`);
    }
    await page.locator('#live-indicator[data-state="live"]').waitFor({ timeout: 10000 });
    const status = await page.getByTestId('status-version').textContent();
    check(status && status !== '…', 'the dashboard shows no host version');
    await page.evaluate(() => {
      window.__pfNoReloadMarker = 'set-after-sign-in';
    });
  });

  let pin = null;
  await step('2. arm pairing and read the PIN', async () => {
    await gotoNav('Pairing');
    await page.getByLabel('PIN valid for').selectOption('120');
    await page.getByTestId('pairing-arm').click();
    const pinEl = page.getByTestId('pairing-pin');
    await pinEl.waitFor();
    pin = await waitFor('a PIN on the page', async () => {
      const text = ((await pinEl.textContent()) || '').trim();
      return /^\d{4,8}$/.test(text) ? text : null;
    });
    const remaining = page.getByTestId('pairing-remaining');
    const first = await remaining.textContent();
    await waitFor('the countdown to move', async () => (await remaining.textContent()) !== first, 4000);
    const state = await apiGet('/api/v1/pairing');
    check(state.status === 200 && state.body && state.body.armed === true, `GET /api/v1/pairing does not say armed: ${JSON.stringify(state)}`);
    log(`  PIN ${pin}`);
  });

  // The Devices page is open BEFORE the probe pairs, so the new device can only appear through
  // the event stream (the page does not poll).
  await step('3. open Devices, then pair the probe with the PIN', async () => {
    await gotoNav('Devices');
    await waitFor('the device list', async () => (await page.getByTestId('devices-table').isVisible()) || (await page.getByTestId('devices-empty').isVisible()));
    check((await page.getByText(DEVICE_NAME, { exact: true }).count()) === 0, `"${DEVICE_NAME}" is listed before it paired`);
    const r = await probe(['pair', env.nativeAddr, '--pin', pin, '--name', DEVICE_NAME], { env, timeoutMs: 30000 });
    check(r.code === 0, `punktfunk-probe pair failed: ${describeRun(r)}`);
    const summary = lastJsonLine(r.stdout);
    check(summary && summary.paired === true, `punktfunk-probe pair did not report paired: ${describeRun(r)}`);
  });

  let fingerprint = null;
  await step('4. the device appears on Devices without a reload', async () => {
    const row = page.locator('[data-testid^="device-row-"]', { hasText: DEVICE_NAME });
    await row.waitFor({ timeout: 15000 });
    await assertNoReload();
    fingerprint = await row.getAttribute('data-fingerprint');
    check(fingerprint && /^[0-9a-fA-F:]+$/.test(fingerprint), `odd fingerprint on the row: ${fingerprint}`);
    check((await row.textContent()).includes('with PIN'), 'the row does not say the device paired with a PIN');
  });

  await step('5. rename the device', async () => {
    const row = page.getByTestId(`device-row-${fingerprint}`);
    await row.getByRole('button', { name: `Rename ${DEVICE_NAME}` }).click();
    const input = row.getByRole('textbox', { name: `New name for ${DEVICE_NAME}` });
    await input.fill(RENAMED);
    await input.press('Enter');
    await waitFor('the new name on the row', async () => ((await row.getByTestId('device-name').textContent()) || '').trim() === RENAMED);
    const list = await apiGet('/api/v1/devices');
    const stored = Array.isArray(list.body) && list.body.find((d) => d.fingerprint === fingerprint);
    check(stored && stored.name === RENAMED, `the host did not store the new name: ${JSON.stringify(list.body)}`);
    await assertNoReload();
  });

  let streaming = null;
  await step('6. a live session shows on the Dashboard with moving stats', async () => {
    streaming = probe(['--connect', env.nativeAddr, '--seconds', '8', '--mode', '640x360@30'], { env, timeoutMs: 40000 });
    streaming.catch(() => {}); // awaited below; a failure before that must not go unhandled
    await gotoNav('Dashboard');
    // This device's session (another client may be streaming from the same host).
    const row = page.locator(`[data-testid^="session-row-"][data-fingerprint="${fingerprint}"]`);
    await row.waitFor({ timeout: 15000 });
    const id = await row.getAttribute('data-session-id');
    const mode = (await page.getByTestId(`session-mode-${id}`).textContent()) || '';
    check(mode.includes('640x360'), `the session row shows mode "${mode}", expected 640x360`);
    const frames = page.getByTestId(`session-frames-${id}`);
    const first = (await frames.textContent()).trim();
    const changed = await waitFor(`session-frames-${id} to change from "${first}"`, async () => {
      const now = ((await frames.textContent()) || '').trim();
      return now !== first ? now : null;
    }, 6000, 200);
    log(`  session ${id}: frames ${first} -> ${changed}`);
    await page.screenshot({ path: path.join(env.artifacts, 'dashboard.png'), fullPage: true });

    // Narrow phone width: nothing may overflow sideways.
    await page.setViewportSize({ width: 375, height: 800 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    await page.screenshot({ path: path.join(env.artifacts, 'dashboard-375.png'), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 900 });
    check(overflow <= 0, `the dashboard scrolls sideways at 375 px (by ${overflow} px)`);

    const r = await streaming;
    streaming = null;
    check(r.code === 0, `punktfunk-probe --connect failed: ${describeRun(r)}`);
    const summary = lastJsonLine(r.stdout);
    log(`  probe: ${summary ? `${summary.frames_decoded} frames decoded` : 'no summary'}`);
    // Not asserted (the host may keep a dropped session for its keep-alive): just report it.
    const gone = await row.waitFor({ state: 'detached', timeout: 15000 }).then(() => true, () => false);
    log(`  session row ${gone ? 'gone after the probe quit' : 'still listed 15 s after the probe quit'}`);
  });

  await step('7. screenshots of the dashboard and of an armed pairing window', async () => {
    await gotoNav('Pairing');
    await page.getByTestId('pairing-arm').click();
    await waitFor('a PIN', async () => /^\d{4,8}$/.test(((await page.getByTestId('pairing-pin').textContent()) || '').trim()));
    await page.screenshot({ path: path.join(env.artifacts, 'pairing.png'), fullPage: true });
    await page.getByTestId('pairing-disarm').click();
    await page.getByTestId('pairing-idle').waitFor();
    const state = await apiGet('/api/v1/pairing');
    check(state.body && state.body.armed === false, `still armed after Disarm: ${JSON.stringify(state)}`);
  });

  await step('8. unpair the device', async () => {
    await gotoNav('Devices');
    const row = page.getByTestId(`device-row-${fingerprint}`);
    await row.waitFor();
    await row.getByRole('button', { name: `Unpair ${RENAMED}` }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Unpair' }).click();
    await row.waitFor({ state: 'detached' });
    const list = await apiGet('/api/v1/devices');
    check(Array.isArray(list.body) && !list.body.some((d) => d.fingerprint === fingerprint), `the host still lists the device: ${JSON.stringify(list.body)}`);
    await assertNoReload();
  });

  await step('9. a reload stays signed in; sign-out ends the session', async () => {
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Devices' }).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Console password').waitFor();
    const after = await apiGet('/api/v1/console/session');
    check(after.status === 401, `GET /api/v1/console/session answers ${after.status} after sign-out`);
    await page.reload();
    await page.getByLabel('Console password').waitFor();
  });
}

function cleanup() {
  for (const child of children) child.kill('SIGKILL');
}

const limitS = Number(process.env.PF_TEST_TIMEOUT_S) || 240;
const watchdog = setTimeout(() => {
  log(`FAIL [${currentStep}]: the whole test ran longer than ${limitS} s`);
  cleanup();
  process.exit(1);
}, limitS * 1000);

let failed = false;
try {
  await main();
  log('PASS: every step passed');
} catch (e) {
  failed = true;
  log(`FAIL [${currentStep}]: ${e && e.message ? e.message : e}`);
  if (!(e instanceof StepFailure) && e && e.stack) log(e.stack);
  if (browserLog.length) log(`browser console (last 20):\n  ${browserLog.slice(-20).join('\n  ')}`);
  if (page && process.env.PF_ARTIFACTS) {
    const file = path.join(process.env.PF_ARTIFACTS, 'failure.png');
    await page.screenshot({ path: file, fullPage: true }).then(() => log(`screenshot: ${file}`), () => {});
  }
} finally {
  cleanup();
  if (browser) await browser.close().catch(() => {});
  clearTimeout(watchdog);
}
process.exit(failed ? 1 : 0);
