// Dashboard: host status and the live sessions. Polls every second (the stats change every
// frame; there is no event for them) and refetches at once on session/device events.
// Rows are keyed by session id and updated in place so focus and selection survive a refresh.

import * as api from '../api.js';
import { onEvents } from '../events.js';
import {
  h,
  setText,
  messageArea,
  announce,
  formatNumber,
  formatBitrate,
  formatFps,
  formatLossPpm,
  formatDuration,
  formatDate,
  shortFingerprint,
} from '../dom.js';

export const title = 'Dashboard';

const POLL_MS = 1000;

export function mount(root) {
  let alive = true;
  let inFlight = false;
  let again = false;
  const msg = messageArea('dashboard-message');

  // ---- host status ----
  const statusFields = [
    ['version', 'Version'],
    ['native_addr', 'Native address'],
    ['pairing', 'Pairing'],
    ['sessions', 'Live sessions'],
    ['paired_devices', 'Paired devices'],
    ['source', 'Video source'],
    ['compositor', 'Compositor'],
    ['encoders', 'Encoders'],
    ['fingerprint', 'Host fingerprint'],
    ['gamestream_fingerprint', 'GameStream fingerprint'],
  ];
  const statusCells = {};
  const statusList = h('dl', { class: 'facts' });
  for (const [key, label] of statusFields) {
    const dd = h('dd', { testid: `status-${key.replace(/_/g, '-')}`, class: key.includes('fingerprint') ? 'mono wrap' : null }, '…');
    statusCells[key] = dd;
    statusList.append(h('div', { class: 'fact' }, h('dt', null, label), dd));
  }

  // ---- sessions ----
  const columns = [
    ['device', 'Device'],
    ['mode', 'Mode'],
    ['codec', 'Codec'],
    ['duration', 'Running'],
    ['frames', 'Frames'],
    ['bitrate', 'Bitrate'],
    ['fps', 'FPS'],
    ['fec', 'FEC'],
    ['loss', 'Loss'],
    ['latency', 'Latency'],
  ];
  const tbody = h('tbody', { testid: 'sessions-body' });
  const table = h('table', { class: 'table responsive', testid: 'sessions-table', hidden: true },
    h('caption', { class: 'visually-hidden' }, 'Live sessions, refreshed every second'),
    h('thead', null, h('tr', null, columns.map(([, label]) => h('th', { scope: 'col' }, label)), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))),
    tbody,
  );
  const empty = h('p', { class: 'empty', testid: 'sessions-empty', hidden: true }, 'No live sessions. Connect a client to see it here.');
  const rows = new Map();

  root.append(
    h('div', { class: 'page-head' }, h('h1', null, 'Dashboard')),
    msg.el,
    h('section', { class: 'card', 'aria-labelledby': 'sessions-heading' },
      h('h2', { id: 'sessions-heading' }, 'Live sessions'),
      h('div', { class: 'table-wrap' }, table),
      empty,
    ),
    h('section', { class: 'card', 'aria-labelledby': 'host-heading' },
      h('h2', { id: 'host-heading' }, 'Host'),
      statusList,
    ),
  );

  function renderStatus(s) {
    for (const [key] of statusFields) {
      const v = s ? s[key] : undefined;
      let text;
      if (key === 'encoders') text = Array.isArray(v) && v.length ? v.map(encoderName).join(', ') : '—';
      else if (key === 'compositor') text = v ? String(v) : 'none (test picture)';
      else if (key === 'pairing') text = v === 'required' ? 'PIN required' : v === 'optional' ? 'open (trust on first use)' : v ? String(v) : '—';
      else if (typeof v === 'number') text = formatNumber(v);
      else text = v === null || v === undefined || v === '' ? '—' : String(v);
      setText(statusCells[key], text);
    }
  }

  function makeRow(s) {
    const id = String(s.id);
    const cells = {};
    const tr = h('tr', { testid: `session-row-${id}`, 'data-session-id': id, 'data-fingerprint': s.fingerprint || '' });
    for (const [key, label] of columns) {
      const td = h('td', { 'data-label': label, testid: `session-${key}-${id}`, class: ['frames', 'bitrate', 'fps', 'fec', 'loss', 'latency'].includes(key) ? 'num' : key === 'device' ? 'span' : null });
      cells[key] = td;
      tr.append(td);
    }
    // Device cell: the name, then where it streams to and its fingerprint.
    cells.deviceName = h('span', { class: 'strong' });
    cells.remote = h('span', { class: 'mono small', testid: `session-remote-${id}` });
    cells.deviceFp = h('span', { class: 'mono small muted' });
    cells.device.append(cells.deviceName, h('br'), cells.remote, h('br'), cells.deviceFp);

    const keyframe = h('button', { type: 'button', class: 'btn btn-small', testid: `session-keyframe-${id}` }, 'Keyframe');
    const stop = h('button', { type: 'button', class: 'btn btn-small btn-danger', testid: `session-stop-${id}` }, 'Stop');
    keyframe.addEventListener('click', () => act(keyframe, () => api.requestKeyframe(s.id), `Keyframe requested for session ${id}.`));
    stop.addEventListener('click', () => act(stop, () => api.stopSession(s.id), `Session ${id} stopped.`, true));
    tr.append(h('td', { class: 'actions', 'data-label': 'Actions' }, h('div', { class: 'btn-row' }, keyframe, stop)));
    return { tr, cells, keyframe, stop };
  }

  function updateRow(row, s) {
    const c = row.cells;
    const device = s.device || 'unnamed device';
    setText(c.deviceName, device);
    setText(c.deviceFp, shortFingerprint(s.fingerprint));
    c.deviceFp.title = s.fingerprint || '';
    setText(c.mode, s.mode || '—');
    setText(c.codec, s.codec ? String(s.codec).toUpperCase() : '—');
    setText(c.remote, s.remote || '—');
    const started = Number(s.started_unix);
    setText(c.duration, started > 0 ? formatDuration(Date.now() / 1000 - started) : '—');
    c.duration.title = started > 0 ? `since ${formatDate(started)}` : '';
    setText(c.frames, formatNumber(s.frames_sent));
    setText(c.bitrate, formatBitrate(s.bitrate_kbps));
    setText(c.fps, formatFps(s.fps));
    setText(c.fec, typeof s.fec_percent === 'number' ? `${s.fec_percent} %` : '—');
    setText(c.loss, formatLossPpm(s.loss_ppm));
    setText(c.latency, typeof s.host_latency_us === 'number' ? `${(s.host_latency_us / 1000).toFixed(1)} ms` : '—');
    c.latency.title = 'Host latency: capture to sent, last frame';
    row.keyframe.setAttribute('aria-label', `Request a keyframe for ${device} (session ${s.id})`);
    row.stop.setAttribute('aria-label', `Stop ${device} (session ${s.id})`);
  }

  function renderSessions(list) {
    const seen = new Set();
    for (const s of list) {
      const key = String(s.id);
      seen.add(key);
      let row = rows.get(key);
      if (!row) {
        row = makeRow(s);
        rows.set(key, row);
        tbody.append(row.tr); // only new rows move; existing ones keep their place (and focus)
      }
      updateRow(row, s);
    }
    for (const [key, row] of rows) {
      if (!seen.has(key)) {
        row.tr.remove();
        rows.delete(key);
      }
    }
    table.hidden = list.length === 0;
    empty.hidden = list.length !== 0;
  }

  async function act(button, call, done, refreshAfter = false) {
    button.disabled = true;
    try {
      await call();
      msg.show(done, 'ok');
      if (refreshAfter) refresh();
    } catch (e) {
      if (e.status !== 401) msg.show(e.message, 'error');
    } finally {
      button.disabled = false;
    }
  }

  let hadError = false;
  async function refresh() {
    if (!alive) return;
    if (inFlight) {
      again = true; // an event arrived mid-poll: poll once more right after
      return;
    }
    inFlight = true;
    try {
      const [status, sessions] = await Promise.all([api.status(), api.sessions()]);
      if (!alive) return;
      renderStatus(status);
      renderSessions(Array.isArray(sessions) ? sessions : []);
      if (hadError) {
        msg.clear();
        hadError = false;
      }
    } catch (e) {
      if (alive && e.status !== 401) {
        msg.show(`Could not refresh: ${e.message}`, 'error');
        hadError = true;
      }
    } finally {
      inFlight = false;
      if (again && alive) {
        again = false;
        refresh();
      }
    }
  }

  const unsubscribe = onEvents(['open', 'session_started', 'session_ended', 'device_paired', 'device_unpaired', 'device_renamed'], (name, data) => {
    if (name === 'session_started') announce(`Session started${data && data.device ? `: ${data.device}` : ''}.`);
    if (name === 'session_ended') announce('A session ended.');
    refresh();
  });
  const timer = setInterval(() => {
    if (!document.hidden) refresh();
  }, POLL_MS);
  refresh();

  return () => {
    alive = false;
    clearInterval(timer);
    unsubscribe();
  };
}

function encoderName(e) {
  if (typeof e === 'string') return e;
  if (e && typeof e === 'object') return String(e.name || e.codec || JSON.stringify(e));
  return String(e);
}
