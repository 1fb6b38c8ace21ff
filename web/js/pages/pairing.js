// Pairing: arm the host's PIN window (native clients) and hand Moonlight's PIN to the
// GameStream plane. The countdown runs locally from remaining_s and is resynced from the host
// every few seconds and on pairing events, so it never drifts far.

import * as api from '../api.js';
import { onEvents } from '../events.js';
import { h, setText, messageArea, formatDuration } from '../dom.js';

export const title = 'Pairing';

const RESYNC_MS = 5000;
const TTL_CHOICES = [
  [60, '1 minute'],
  [120, '2 minutes'],
  [300, '5 minutes'],
];

export function mount(root) {
  let alive = true;
  let state = { armed: false };
  let deadline = 0; // performance.now() when the window closes
  let total = 0;
  let inFlight = false;
  let again = false;
  let nativeAddr = null;
  const msg = messageArea('pairing-message');

  // ---- arm form ----
  const ttl = h('select', { id: 'pair-ttl', name: 'ttl', testid: 'pairing-ttl' },
    TTL_CHOICES.map(([value, label]) => h('option', { value, selected: value === 120 }, label)));
  const fingerprint = h('input', {
    id: 'pair-fp',
    name: 'fingerprint',
    type: 'text',
    autocomplete: 'off',
    spellcheck: 'false',
    inputmode: 'text',
    'aria-describedby': 'pair-fp-hint',
    class: 'mono',
    testid: 'pairing-fingerprint',
  });
  const armButton = h('button', { type: 'submit', class: 'btn btn-primary', testid: 'pairing-arm' }, 'Arm pairing');
  const armError = h('p', { class: 'msg', role: 'alert', testid: 'pairing-error', hidden: true });
  const armForm = h('form', { class: 'stack', novalidate: true, on: { submit: onArm } },
    h('div', { class: 'field-row' },
      h('div', { class: 'field' }, h('label', { for: 'pair-ttl' }, 'PIN valid for'), ttl),
      h('div', { class: 'field grow' },
        h('label', { for: 'pair-fp' }, 'Device fingerprint ', h('span', { class: 'muted' }, '(optional)')),
        fingerprint,
      ),
    ),
    h('p', { class: 'hint', id: 'pair-fp-hint' }, 'With a fingerprint, only that device can use the PIN.'),
    armError,
    h('div', { class: 'btn-row' }, armButton),
  );

  // ---- current window ----
  const pin = h('p', { class: 'pin', testid: 'pairing-pin' });
  const countdown = h('span', { role: 'timer', testid: 'pairing-remaining' });
  const progress = h('progress', { max: 100, value: 100, 'aria-label': 'Time left for this PIN' });
  const bound = h('p', { class: 'small', testid: 'pairing-bound', hidden: true });
  const failures = h('p', { class: 'small', testid: 'pairing-failures', hidden: true });
  const command = h('code', { class: 'mono wrap' });
  const disarm = h('button', { type: 'button', class: 'btn btn-danger', testid: 'pairing-disarm', on: { click: onDisarm } }, 'Disarm');
  const armedView = h('div', { class: 'armed', testid: 'pairing-armed', hidden: true },
    h('p', { class: 'pin-label' }, 'PIN'),
    pin,
    h('p', { class: 'countdown' }, 'Expires in ', countdown),
    progress,
    bound,
    failures,
    h('p', { class: 'small muted' }, 'On the client: ', command),
    h('div', { class: 'btn-row' }, disarm),
  );
  const idleView = h('p', { class: 'muted', testid: 'pairing-idle' }, 'Pairing is off: new devices cannot pair.');
  const stateLine = h('p', { class: 'visually-hidden', 'aria-live': 'polite' });

  // ---- GameStream ----
  const gsPin = h('input', {
    id: 'gs-pin',
    name: 'pin',
    type: 'text',
    inputmode: 'numeric',
    autocomplete: 'one-time-code',
    maxlength: 4,
    pattern: '[0-9]{4}',
    class: 'mono pin-input',
    'aria-describedby': 'gs-pin-hint',
    testid: 'gamestream-pin',
  });
  const gsSubmit = h('button', { type: 'submit', class: 'btn btn-primary', testid: 'gamestream-submit' }, 'Send PIN');
  const gsMsg = messageArea('gamestream-message');
  const gsForm = h('form', { class: 'stack', novalidate: true, on: { submit: onGamestream } },
    h('div', { class: 'field' },
      h('label', { for: 'gs-pin' }, 'PIN shown by Moonlight'),
      gsPin,
      h('p', { class: 'hint', id: 'gs-pin-hint' }, 'Add this host in Moonlight; it shows a 4-digit PIN to enter here.'),
    ),
    gsMsg.el,
    h('div', { class: 'btn-row' }, gsSubmit),
  );

  root.append(
    h('div', { class: 'page-head' }, h('h1', null, 'Pairing')),
    msg.el,
    h('div', { class: 'grid-2' },
      h('section', { class: 'card', 'aria-labelledby': 'pair-heading' },
        h('h2', { id: 'pair-heading' }, 'Pair a punktfunk client'),
        armedView,
        idleView,
        stateLine,
        h('hr'),
        armForm,
      ),
      h('section', { class: 'card', 'aria-labelledby': 'gs-heading' },
        h('h2', { id: 'gs-heading' }, 'Moonlight PIN'),
        gsForm,
      ),
    ),
  );

  function apply(next) {
    const wasArmed = state.armed;
    state = next && typeof next === 'object' ? next : { armed: false };
    if (state.armed) {
      const remaining = Math.max(0, Number(state.remaining_s) || 0);
      deadline = performance.now() + remaining * 1000;
      // The window's full length is what we armed with; a resync never makes it longer.
      total = Math.max(total, remaining, 1);
      setText(pin, state.pin ? String(state.pin) : '— — — —');
      bound.hidden = !state.bound_to;
      setText(bound, state.bound_to ? `Only for device ${state.bound_to}` : '');
      const failed = Number(state.failed_attempts) || 0;
      failures.hidden = failed === 0;
      setText(failures, `Wrong guesses so far: ${failed}`);
      setText(command, `punktfunk-probe pair ${nativeAddr || 'HOST:PORT'} --pin ${state.pin || 'PIN'}`);
      setText(armButton, 'Arm again (new PIN)');
      tick();
    } else {
      total = 0;
      setText(pin, '');
      setText(armButton, 'Arm pairing');
    }
    armedView.hidden = !state.armed;
    idleView.hidden = Boolean(state.armed);
    if (wasArmed !== Boolean(state.armed)) setText(stateLine, state.armed ? 'Pairing armed.' : 'Pairing is off.');
  }

  function tick() {
    if (!state.armed) return;
    const left = Math.max(0, (deadline - performance.now()) / 1000);
    setText(countdown, formatDuration(Math.ceil(left)));
    progress.value = total > 0 ? Math.round((left / total) * 100) : 0;
    if (left <= 0) refresh(); // the host says what happened (expired, or paired just now)
  }

  async function refresh() {
    if (!alive) return;
    if (inFlight) {
      again = true;
      return;
    }
    inFlight = true;
    try {
      const next = await api.pairing();
      if (alive) apply(next);
    } catch (e) {
      if (alive && e.status !== 401) msg.show(`Could not read the pairing state: ${e.message}`, 'error');
    } finally {
      inFlight = false;
      if (again && alive) {
        again = false;
        refresh();
      }
    }
  }

  async function onArm(event) {
    event.preventDefault();
    armError.hidden = true;
    // Fingerprints get pasted with spaces or colons; the host wants plain hex.
    const fp = fingerprint.value.replace(/[\s:]/g, '').toLowerCase();
    if (fp && !/^[0-9a-f]+$/.test(fp)) {
      armError.textContent = 'A fingerprint is hexadecimal (0–9, a–f).';
      armError.hidden = false;
      fingerprint.focus();
      return;
    }
    armButton.disabled = true;
    try {
      const seconds = Number(ttl.value);
      const next = await api.armPairing(seconds, fp || null);
      total = seconds;
      apply(next && typeof next === 'object' && 'armed' in next ? next : { armed: false });
      if (!next || !('armed' in next)) refresh();
      msg.show('Pairing armed: enter the PIN on the device.', 'ok');
      pin.scrollIntoView({ block: 'nearest' });
    } catch (e) {
      if (e.status !== 401) {
        armError.textContent = e.message;
        armError.hidden = false;
      }
    } finally {
      armButton.disabled = false;
    }
  }

  async function onDisarm() {
    disarm.disabled = true;
    try {
      await api.disarmPairing();
      apply({ armed: false });
      msg.show('Pairing disarmed.', 'ok');
      armButton.focus();
    } catch (e) {
      if (e.status !== 401) msg.show(e.message, 'error');
    } finally {
      disarm.disabled = false;
    }
  }

  async function onGamestream(event) {
    event.preventDefault();
    const value = gsPin.value.trim();
    if (!/^[0-9]{4}$/.test(value)) {
      gsMsg.show('Enter the 4 digits Moonlight shows.', 'error');
      gsPin.setAttribute('aria-invalid', 'true');
      gsPin.focus();
      return;
    }
    gsPin.removeAttribute('aria-invalid');
    gsSubmit.disabled = true;
    try {
      await api.gamestreamPin(value);
      gsPin.value = '';
      gsMsg.show('PIN sent: Moonlight finishes pairing now.', 'ok');
    } catch (e) {
      if (e.status !== 401) gsMsg.show(e.message, 'error');
    } finally {
      gsSubmit.disabled = false;
    }
  }

  const unsubscribe = onEvents(['open', 'pairing_armed', 'pairing_completed', 'pairing_disarmed', 'device_paired'], (name, data) => {
    if (name === 'pairing_completed' || name === 'device_paired') {
      const who = deviceName(data);
      msg.show(who ? `Paired “${who}”.` : 'A device paired.', 'ok');
    }
    refresh();
  });
  const ticker = setInterval(tick, 250);
  const resync = setInterval(() => {
    if (!document.hidden) refresh();
  }, RESYNC_MS);

  // The native address makes the client command copyable; 0.0.0.0 means "this host's name".
  api.status().then((s) => {
    if (!alive || !s || !s.native_addr) return;
    const addr = String(s.native_addr);
    const m = /^(0\.0\.0\.0|\[::\]):(\d+)$/.exec(addr);
    nativeAddr = m ? `${location.hostname}:${m[2]}` : addr;
    if (state.armed) setText(command, `punktfunk-probe pair ${nativeAddr} --pin ${state.pin || 'PIN'}`);
  }).catch(() => {});
  refresh();

  return () => {
    alive = false;
    clearInterval(ticker);
    clearInterval(resync);
    unsubscribe();
  };
}

/** The event payloads are not pinned down beyond "JSON"; take a name where there is one. */
function deviceName(data) {
  if (!data || typeof data !== 'object') return null;
  for (const v of [data.name, data.device && data.device.name, data.device]) {
    if (typeof v === 'string' && v) return v;
  }
  return null;
}
