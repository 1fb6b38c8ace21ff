// Boot and hash router. Each page module exports { title, mount(root, ctx) } and mount returns
// a cleanup that stops its timers and event subscriptions when the user leaves the page.

import * as api from './api.js';
import { connectEvents, disconnectEvents, onEvents } from './events.js';
import { h, clear } from './dom.js';
import * as signin from './pages/signin.js';
import * as dashboard from './pages/dashboard.js';
import * as devices from './pages/devices.js';
import * as pairing from './pages/pairing.js';
import * as settings from './pages/settings.js';

const PAGES = { signin, dashboard, devices, pairing, settings };
const DEFAULT_PAGE = 'dashboard';

const main = document.getElementById('main');
const topbar = document.getElementById('topbar');

let signedIn = false;
let current = null; // { name, cleanup }
let afterSignIn = DEFAULT_PAGE;
let firstRender = true;
let signinNotice = '';

function pageFromHash() {
  const m = /^#\/([a-z]+)/.exec(location.hash);
  return m && PAGES[m[1]] ? m[1] : null;
}

function go(name, { replace = false } = {}) {
  const hash = `#/${name}`;
  if (location.hash === hash) {
    render();
  } else if (replace) {
    location.replace(hash); // fires hashchange
  } else {
    location.hash = hash;
  }
}

function render() {
  const name = pageFromHash();
  if (!signedIn) {
    if (name && name !== 'signin') afterSignIn = name;
    if (name !== 'signin') return go('signin', { replace: true });
  } else if (!name || name === 'signin') {
    return go(DEFAULT_PAGE, { replace: true });
  }
  if (current && current.name === name) return;
  if (current && current.cleanup) current.cleanup();
  current = null;

  const page = PAGES[name];
  topbar.hidden = !signedIn;
  for (const link of document.querySelectorAll('.nav a[data-route]')) {
    if (link.dataset.route === name) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  document.title = `${page.title} · punktfunk console`;
  clear(main);
  main.dataset.page = name;
  const cleanup = page.mount(main, context);
  current = { name, cleanup };

  // Move focus to the new page's heading so keyboard and screen-reader users land there,
  // unless the page put it somewhere itself (sign-in focuses the password).
  if (!firstRender && !main.contains(document.activeElement)) {
    const heading = main.querySelector('h1');
    if (heading) {
      heading.setAttribute('tabindex', '-1');
      heading.focus({ preventScroll: false });
    }
  }
  firstRender = false;
}

async function stillSignedIn() {
  try {
    const token = await api.session();
    if (!token) signedOutBy('Your session ended. Please sign in again.');
    return Boolean(token);
  } catch {
    return true; // unreachable is not signed out
  }
}

function signedInNow() {
  signedIn = true;
  signinNotice = '';
  connectEvents(stillSignedIn);
  const target = afterSignIn && afterSignIn !== 'signin' ? afterSignIn : DEFAULT_PAGE;
  afterSignIn = DEFAULT_PAGE;
  if (current && current.cleanup) current.cleanup();
  current = null;
  go(target, { replace: true });
}

function signedOutBy(message) {
  if (!signedIn && current && current.name === 'signin') return;
  signedIn = false;
  signinNotice = message || '';
  disconnectEvents();
  if (current && current.name !== 'signin') afterSignIn = current.name;
  if (current && current.cleanup) current.cleanup();
  current = null;
  topbar.hidden = true;
  go('signin', { replace: true });
}

const context = {
  signedIn: signedInNow,
  takeSigninNotice() {
    const text = signinNotice;
    signinNotice = '';
    return text;
  },
};

function setupChrome() {
  const indicator = document.getElementById('live-indicator');
  const labels = { live: 'Live', connecting: 'Connecting…', off: 'Offline' };
  const titles = {
    live: 'Receiving live updates from the host',
    connecting: 'Connecting to the live update stream',
    off: 'No live updates',
  };
  onEvents('state', (_, state) => {
    indicator.dataset.state = state;
    indicator.querySelector('.live-text').textContent = labels[state] || state;
    indicator.title = titles[state] || '';
  });

  const signout = document.getElementById('signout');
  signout.addEventListener('click', async () => {
    signout.disabled = true;
    try {
      await api.logout();
    } catch {
      /* signed out locally either way */
    } finally {
      signout.disabled = false;
    }
    signedOutBy('You are signed out.');
  });

  api.onUnauthorized(() => signedOutBy('Your session ended. Please sign in again.'));
  window.addEventListener('hashchange', render);
}

function showBootError(error) {
  clear(main);
  const retry = h('button', { type: 'button', class: 'btn btn-primary', on: { click: boot } }, 'Try again');
  main.append(
    h('section', { class: 'card narrow' },
      h('h1', null, 'Cannot reach the host'),
      h('p', { role: 'alert' }, error.message || String(error)),
      retry),
  );
  retry.focus();
}

async function boot() {
  let token = null;
  try {
    token = await api.session();
  } catch (e) {
    showBootError(e);
    return;
  }
  signedIn = Boolean(token);
  if (signedIn) connectEvents(stillSignedIn);
  current = null;
  render();
}

setupChrome();
boot();
