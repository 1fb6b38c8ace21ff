// Sign-in: one password. The host answers 429 with retry_after_s when it throttles guesses;
// we keep the button off until then and say how long.

import * as api from '../api.js';
import { h } from '../dom.js';

export const title = 'Sign in';

export function mount(root, ctx) {
  let lockTimer = null;

  const password = h('input', {
    id: 'signin-password',
    name: 'password',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
    'aria-describedby': 'signin-hint',
    testid: 'signin-password',
  });
  const show = h('input', { id: 'signin-show', type: 'checkbox' });
  show.addEventListener('change', () => {
    password.type = show.checked ? 'text' : 'password';
  });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block', testid: 'signin-submit' }, 'Sign in');
  const error = h('p', { class: 'msg', id: 'signin-error', role: 'alert', testid: 'signin-error', hidden: true });

  const form = h('form', { class: 'stack', novalidate: true, on: { submit: onSubmit } },
    // There is no user name; this lets password managers file the password under one.
    h('input', { type: 'text', name: 'username', autocomplete: 'username', value: 'punktfunk console', hidden: true, tabindex: '-1', 'aria-hidden': 'true' }),
    h('div', { class: 'field' },
      h('label', { for: 'signin-password' }, 'Console password'),
      password,
      h('p', { class: 'hint', id: 'signin-hint' }, 'The host prints it in its log at first start; punktfunk-host web password makes a new one.'),
    ),
    h('div', { class: 'check' }, show, h('label', { for: 'signin-show' }, 'Show password')),
    error,
    submit,
  );

  root.append(
    h('section', { class: 'signin' },
      h('div', { class: 'card signin-card' },
        h('div', { class: 'signin-brand', 'aria-hidden': 'true' }, logo()),
        h('h1', null, 'punktfunk console'),
        h('p', { class: 'muted' }, 'Sign in to manage this streaming host.'),
        form,
      ),
    ),
  );

  const notice = ctx.takeSigninNotice();
  if (notice) showError(notice, 'info');
  password.focus();

  function showError(text, kind = 'error') {
    error.dataset.kind = kind;
    error.textContent = text;
    error.hidden = false;
  }

  function lockFor(seconds) {
    clearInterval(lockTimer);
    const until = Date.now() + seconds * 1000;
    submit.disabled = true;
    const tick = () => {
      const left = Math.ceil((until - Date.now()) / 1000);
      if (left > 0) {
        submit.textContent = `Wait ${left} s`;
        return;
      }
      clearInterval(lockTimer);
      submit.disabled = false;
      submit.textContent = 'Sign in';
      showError('You can try again now.', 'info');
    };
    tick();
    lockTimer = setInterval(tick, 250);
  }

  async function onSubmit(event) {
    event.preventDefault();
    if (submit.disabled) return;
    if (!password.value) {
      showError('Enter the console password.');
      password.focus();
      return;
    }
    error.hidden = true;
    submit.disabled = true;
    submit.textContent = 'Signing in…';
    let locked = false;
    try {
      await api.login(password.value);
      password.value = '';
      ctx.signedIn();
      return;
    } catch (e) {
      if (e.status === 401) {
        showError((e.body && e.body.error) || 'Wrong password.');
      } else if (e.status === 429) {
        const wait = Number(e.body && e.body.retry_after_s);
        const waitText = Number.isFinite(wait) ? ` Try again in ${Math.ceil(wait)} s.` : '';
        const text = /[.!?]$/.test(e.message) ? e.message : `${e.message}.`;
        showError(`${text}${waitText}`);
        if (Number.isFinite(wait) && wait > 0) {
          locked = true;
          lockFor(wait);
        }
      } else {
        showError(e.message || 'Sign-in failed.');
      }
      password.select();
      password.focus();
    } finally {
      if (!locked && submit.isConnected) {
        submit.disabled = false;
        submit.textContent = 'Sign in';
      }
    }
  }

  return () => clearInterval(lockTimer);
}

function logo() {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 32 32');
  svg.setAttribute('width', '48');
  svg.setAttribute('height', '48');
  svg.setAttribute('focusable', 'false');
  const circle = document.createElementNS(ns, 'circle');
  circle.setAttribute('cx', '16');
  circle.setAttribute('cy', '16');
  circle.setAttribute('r', '4.5');
  circle.setAttribute('fill', 'currentColor');
  svg.append(circle);
  for (const [d, opacity] of [
    ['M9.5 9.5a9.2 9.2 0 0 0 0 13M22.5 9.5a9.2 9.2 0 0 1 0 13', '1'],
    ['M5 5a15.5 15.5 0 0 0 0 22M27 5a15.5 15.5 0 0 1 0 22', '.55'],
  ]) {
    const path = document.createElementNS(ns, 'path');
    path.setAttribute('d', d);
    path.setAttribute('fill', 'none');
    path.setAttribute('stroke', 'currentColor');
    path.setAttribute('stroke-width', '2.4');
    path.setAttribute('stroke-linecap', 'round');
    path.setAttribute('opacity', opacity);
    svg.append(path);
  }
  return svg;
}
