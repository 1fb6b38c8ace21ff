// DOM helpers. Everything that may carry data goes in as text (textContent / attributes),
// never as markup: device names and config values come from outside.

/**
 * h('button', { class: 'btn', on: { click } , dataset: { testid: 'x' } }, 'Text', childNode)
 * Attribute values are set with setAttribute; children strings become text nodes.
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [key, value] of Object.entries(attrs)) {
      if (value === undefined || value === null || value === false) continue;
      if (key === 'on') {
        for (const [type, fn] of Object.entries(value)) el.addEventListener(type, fn);
      } else if (key === 'text') {
        el.textContent = String(value);
      } else if (key === 'testid') {
        el.setAttribute('data-testid', String(value));
      } else if (key === 'hidden' || key === 'disabled' || key === 'required' || key === 'checked' || key === 'selected') {
        el[key] = Boolean(value);
      } else if (key === 'value') {
        el.value = String(value);
      } else {
        el.setAttribute(key, value === true ? '' : String(value));
      }
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
}

/** Set text only when it changed, so live updates don't disturb selection or screen readers. */
export function setText(el, text) {
  const value = String(text);
  if (el.textContent !== value) el.textContent = value;
}

let uid = 0;
export function nextId(prefix) {
  uid += 1;
  return `${prefix}-${uid}`;
}

/** A visible message line under a heading or form; polite, so it is read when it changes. */
export function messageArea(testid) {
  const el = h('p', { class: 'msg', role: 'status', 'aria-live': 'polite', testid, hidden: true });
  return {
    el,
    show(text, kind = 'info') {
      el.dataset.kind = kind;
      el.textContent = text;
      el.hidden = false;
    },
    clear() {
      el.textContent = '';
      el.hidden = true;
    },
  };
}

/** Short announcement for screen readers where nothing visible changes. */
export function announce(text) {
  const el = document.getElementById('announcer');
  if (!el) return;
  el.textContent = '';
  // Clear first so the same text twice is still read twice.
  setTimeout(() => {
    el.textContent = text;
  }, 50);
}

/** Modal confirmation on the page's <dialog>; resolves true only on the confirm button. */
export function confirmDialog({ title, message, confirmLabel = 'Confirm' }) {
  const dialog = document.getElementById('confirm-dialog');
  const opener = document.activeElement;
  dialog.querySelector('#confirm-title').textContent = title;
  dialog.querySelector('#confirm-message').textContent = message;
  dialog.querySelector('#confirm-ok').textContent = confirmLabel;
  dialog.returnValue = '';
  return new Promise((resolve) => {
    dialog.addEventListener(
      'close',
      () => {
        resolve(dialog.returnValue === 'ok');
        if (opener && opener.isConnected && typeof opener.focus === 'function') opener.focus();
      },
      { once: true },
    );
    dialog.showModal();
    // Safer default: Cancel has the focus, so Enter doesn't destroy anything.
    dialog.querySelector('#confirm-cancel').focus();
  });
}

// ---- formatting -------------------------------------------------------------------------

const numberFormat = new Intl.NumberFormat(undefined);

export function formatNumber(n) {
  return typeof n === 'number' && Number.isFinite(n) ? numberFormat.format(n) : '—';
}

export function formatBitrate(kbps) {
  if (typeof kbps !== 'number' || !Number.isFinite(kbps)) return '—';
  if (kbps >= 1000) return `${(kbps / 1000).toFixed(kbps >= 100000 ? 0 : 1)} Mbit/s`;
  return `${Math.round(kbps)} kbit/s`;
}

export function formatFps(fps) {
  return typeof fps === 'number' && Number.isFinite(fps) ? fps.toFixed(1) : '—';
}

export function formatLossPpm(ppm) {
  if (typeof ppm !== 'number' || !Number.isFinite(ppm)) return '—';
  return `${(ppm / 10000).toFixed(ppm >= 10000 ? 1 : 2)} %`;
}

export function formatDuration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = s % 60;
  const pad = (v) => String(v).padStart(2, '0');
  return hh > 0 ? `${hh}:${pad(mm)}:${pad(ss)}` : `${mm}:${pad(ss)}`;
}

export function formatDate(unix) {
  if (typeof unix !== 'number' || !Number.isFinite(unix) || unix <= 0) return '—';
  return new Date(unix * 1000).toLocaleString();
}

const relative = typeof Intl.RelativeTimeFormat === 'function' ? new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' }) : null;

export function formatAgo(unix) {
  if (typeof unix !== 'number' || !Number.isFinite(unix) || unix <= 0) return 'never';
  const diff = Math.round(unix - Date.now() / 1000); // negative: in the past
  const abs = Math.abs(diff);
  const [value, unit] =
    abs < 60 ? [diff, 'second'] : abs < 3600 ? [Math.round(diff / 60), 'minute'] : abs < 86400 ? [Math.round(diff / 3600), 'hour'] : [Math.round(diff / 86400), 'day'];
  if (abs < 10) return 'just now';
  return relative ? relative.format(value, unit) : formatDate(unix);
}

/** "ab12cd34…" for tables; the full value goes into a title and the copy text. */
export function shortFingerprint(fp) {
  const s = String(fp || '');
  return s.length > 16 ? `${s.slice(0, 16)}…` : s;
}
