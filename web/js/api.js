// The management API, same origin. The session lives in an HttpOnly cookie the host sets;
// what we hold is the CSRF token that every write has to echo back.

const TOKEN_KEY = 'punktfunk.csrf';

let csrfToken = readStoredToken();
let unauthorizedHandler = () => {};

export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.body = body;
  }
}

function readStoredToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null; // storage can be disabled; memory is enough then
  }
}

export function setToken(token) {
  csrfToken = token || null;
  try {
    if (csrfToken) sessionStorage.setItem(TOKEN_KEY, csrfToken);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    /* memory only */
  }
}

/** Called once per 401 on an authenticated call: the app sends the user to sign-in. */
export function onUnauthorized(handler) {
  unauthorizedHandler = handler;
}

async function send(method, path, body, { expect401 = false, retried = false } = {}) {
  const write = method !== 'GET';
  const headers = { Accept: 'application/json' };
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (write && csrfToken) headers['X-CSRF-Token'] = csrfToken;

  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError(0, 'Cannot reach the host. Is it still running?', null);
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (res.ok) return data;

  // A stale token (another tab signed in again) gets one retry with a fresh one.
  if (write && res.status === 403 && !retried) {
    const before = csrfToken;
    const fresh = await session().catch(() => null);
    if (fresh && fresh !== before) return send(method, path, body, { expect401, retried: true });
  }

  const message =
    (data && typeof data.error === 'string' && data.error) ||
    `The host answered ${res.status}${res.statusText ? ' ' + res.statusText : ''}.`;
  const error = new ApiError(res.status, message, data);
  if (res.status === 401 && !expect401) {
    setToken(null);
    unauthorizedHandler(error);
  }
  throw error;
}

const seg = (value) => encodeURIComponent(String(value));

/** The CSRF token when signed in (and stored), null when not. */
export async function session() {
  try {
    const data = await send('GET', '/api/v1/console/session', undefined, { expect401: true });
    setToken(data && data.csrf_token);
    return csrfToken;
  } catch (e) {
    if (e.status === 401) {
      setToken(null);
      return null;
    }
    throw e;
  }
}

export async function login(password) {
  const data = await send('POST', '/api/v1/console/login', { password }, { expect401: true });
  setToken(data && data.csrf_token);
  return csrfToken;
}

export async function logout() {
  try {
    await send('POST', '/api/v1/console/logout', undefined, { expect401: true });
  } finally {
    setToken(null);
  }
}

export const status = () => send('GET', '/api/v1/status');
export const config = () => send('GET', '/api/v1/config');

export const sessions = () => send('GET', '/api/v1/sessions');
export const stopSession = (id) => send('DELETE', `/api/v1/sessions/${seg(id)}`);
export const requestKeyframe = (id) => send('POST', `/api/v1/sessions/${seg(id)}/keyframe`);

export const devices = () => send('GET', '/api/v1/devices');
export const renameDevice = (fingerprint, name) =>
  send('PATCH', `/api/v1/devices/${seg(fingerprint)}`, { name });
export const unpairDevice = (fingerprint) => send('DELETE', `/api/v1/devices/${seg(fingerprint)}`);

export const pairing = () => send('GET', '/api/v1/pairing');
export const armPairing = (ttlSeconds, fingerprint) =>
  send('POST', '/api/v1/pairing/arm', { ttl_s: ttlSeconds, fingerprint: fingerprint || null });
export const disarmPairing = () => send('DELETE', '/api/v1/pairing');

export const gamestreamPin = (pin) => send('POST', '/api/v1/gamestream/pin', { pin });
