// One Server-Sent Events stream for the whole console; pages subscribe to the names they need.
// "open" is emitted on every (re)connect: events may have been missed while we were away,
// so subscribers refetch then too.

export const EVENT_NAMES = [
  'session_started',
  'session_ended',
  'device_paired',
  'device_unpaired',
  'device_renamed',
  'pairing_armed',
  'pairing_completed',
  'pairing_disarmed',
];

const bus = new EventTarget();
let source = null;
let retryTimer = null;
let retryMs = 1000;
let authCheck = async () => true;
let state = 'off';

function setState(next) {
  if (state === next) return;
  state = next;
  bus.dispatchEvent(new CustomEvent('state', { detail: next }));
}

/** checkAuth() resolves false when the session is gone; we stop then instead of retrying. */
export function connectEvents(checkAuth) {
  if (checkAuth) authCheck = checkAuth;
  if (source) return;
  clearTimeout(retryTimer);
  setState('connecting');
  const es = new EventSource('/api/v1/events');
  source = es;
  es.onopen = () => {
    retryMs = 1000;
    setState('live');
    bus.dispatchEvent(new CustomEvent('open'));
  };
  es.onerror = () => {
    if (es.readyState === EventSource.CONNECTING) {
      setState('connecting'); // the browser retries by itself
      return;
    }
    // CLOSED: a non-200 answer (401 after sign-out elsewhere, a restart). Ask before retrying.
    es.close();
    if (source === es) source = null;
    setState('connecting');
    retryTimer = setTimeout(async () => {
      let ok = false;
      try {
        ok = await authCheck();
      } catch {
        ok = true; // host unreachable: keep trying
      }
      if (ok && !source) connectEvents();
      else if (!ok) setState('off');
    }, retryMs);
    retryMs = Math.min(retryMs * 2, 30000);
  };
  for (const name of EVENT_NAMES) {
    es.addEventListener(name, (e) => {
      let data = null;
      try {
        data = e.data ? JSON.parse(e.data) : null;
      } catch {
        data = null;
      }
      bus.dispatchEvent(new CustomEvent(name, { detail: data }));
    });
  }
}

export function disconnectEvents() {
  clearTimeout(retryTimer);
  if (source) source.close();
  source = null;
  setState('off');
}

export function eventState() {
  return state;
}

/** Subscribe to one or more names (including "open" and "state"); returns the unsubscribe. */
export function onEvents(names, handler) {
  const list = Array.isArray(names) ? names : [names];
  const wrapped = (e) => handler(e.type, e.detail);
  for (const n of list) bus.addEventListener(n, wrapped);
  return () => {
    for (const n of list) bus.removeEventListener(n, wrapped);
  };
}
