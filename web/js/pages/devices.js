// Paired devices. No polling: the list refetches on device/pairing events from the SSE stream
// (and on every reconnect of it), so a device that pairs shows up without a reload.

import * as api from '../api.js';
import { onEvents } from '../events.js';
import { h, setText, messageArea, announce, confirmDialog, formatAgo, formatDate, nextId } from '../dom.js';

export const title = 'Devices';

const NAME_MAX = 64;

export function mount(root) {
  let alive = true;
  let inFlight = false;
  let again = false;
  let loaded = false;
  const rows = new Map(); // fingerprint -> row
  const msg = messageArea('devices-message');

  const tbody = h('tbody', { testid: 'devices-body' });
  const table = h('table', { class: 'table responsive', testid: 'devices-table', hidden: true },
    h('caption', { class: 'visually-hidden' }, 'Paired devices'),
    h('thead', null,
      h('tr', null,
        h('th', { scope: 'col' }, 'Name'),
        h('th', { scope: 'col' }, 'Plane'),
        h('th', { scope: 'col' }, 'Paired'),
        h('th', { scope: 'col' }, 'Last seen'),
        h('th', { scope: 'col' }, 'Fingerprint'),
        h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')),
      ),
    ),
    tbody,
  );
  const empty = h('p', { class: 'empty', testid: 'devices-empty', hidden: true },
    'No paired devices yet. ', h('a', { href: '#/pairing' }, 'Arm pairing'), ' to add one.');
  const loading = h('p', { class: 'muted' }, 'Loading devices…');

  root.append(
    h('div', { class: 'page-head' },
      h('h1', null, 'Devices'),
      h('a', { class: 'btn', href: '#/pairing' }, 'Pair a device'),
    ),
    msg.el,
    h('section', { class: 'card', 'aria-label': 'Paired devices' }, loading, h('div', { class: 'table-wrap' }, table), empty),
  );

  function makeRow(d) {
    const fp = String(d.fingerprint);
    const nameCell = h('td', { 'data-label': 'Name', class: 'name-cell span' });
    const nameText = h('span', { class: 'strong', testid: 'device-name' });
    nameCell.append(nameText);
    const plane = h('td', { 'data-label': 'Plane' });
    const paired = h('td', { 'data-label': 'Paired' });
    const seen = h('td', { 'data-label': 'Last seen' });
    const fpCell = h('td', { 'data-label': 'Fingerprint', class: 'mono small wrap span' }, fp);
    const rename = h('button', { type: 'button', class: 'btn btn-small', testid: 'device-rename' }, 'Rename');
    const unpair = h('button', { type: 'button', class: 'btn btn-small btn-danger', testid: 'device-unpair' }, 'Unpair');
    const tr = h('tr', { testid: `device-row-${fp}`, 'data-fingerprint': fp },
      nameCell, plane, paired, seen, fpCell,
      h('td', { class: 'actions', 'data-label': 'Actions' }, h('div', { class: 'btn-row' }, rename, unpair)),
    );
    const row = { fp, tr, nameCell, nameText, plane, paired, seen, rename, unpair, editor: null, device: d };
    rename.addEventListener('click', () => openEditor(row));
    unpair.addEventListener('click', () => doUnpair(row));
    return row;
  }

  function updateRow(row, d) {
    row.device = d;
    const name = d.name || 'unnamed device';
    setText(row.nameText, name);
    setText(row.plane, d.plane === 'gamestream' ? 'GameStream (Moonlight)' : d.plane === 'native' ? 'punktfunk' : String(d.plane || '—'));
    const how = d.paired_by === 'pin' ? 'with PIN' : d.paired_by === 'tofu' ? 'on first use' : d.paired_by ? String(d.paired_by) : '';
    setText(row.paired, `${formatAgo(d.paired_at)}${how ? `, ${how}` : ''}`);
    row.paired.title = formatDate(d.paired_at);
    setText(row.seen, d.last_seen ? formatAgo(d.last_seen) : 'never');
    row.seen.title = d.last_seen ? formatDate(d.last_seen) : '';
    row.rename.setAttribute('aria-label', `Rename ${name}`);
    row.unpair.setAttribute('aria-label', `Unpair ${name}`);
  }

  function render(list) {
    loading.hidden = true;
    const present = new Set();
    for (const d of list) {
      const fp = String(d.fingerprint);
      present.add(fp);
      let row = rows.get(fp);
      if (!row) {
        row = makeRow(d);
        rows.set(fp, row);
        tbody.append(row.tr);
        if (loaded) announce(`Device paired: ${d.name || fp}.`);
      }
      updateRow(row, d);
    }
    for (const [fp, row] of rows) {
      if (!present.has(fp)) {
        row.tr.remove();
        rows.delete(fp);
      }
    }
    loaded = true;
    table.hidden = list.length === 0;
    empty.hidden = list.length !== 0;
  }

  async function refresh() {
    if (!alive) return;
    if (inFlight) {
      again = true;
      return;
    }
    inFlight = true;
    try {
      const list = await api.devices();
      if (alive) render(Array.isArray(list) ? list : []);
    } catch (e) {
      if (alive && e.status !== 401) msg.show(`Could not load devices: ${e.message}`, 'error');
    } finally {
      inFlight = false;
      if (again && alive) {
        again = false;
        refresh();
      }
    }
  }

  function openEditor(row) {
    if (row.editor) return;
    const id = nextId('rename');
    const input = h('input', { id, type: 'text', value: row.device.name || '', maxlength: NAME_MAX, required: true, autocomplete: 'off', spellcheck: 'false', testid: 'device-rename-input' });
    const error = h('p', { class: 'msg', role: 'alert', hidden: true });
    const save = h('button', { type: 'submit', class: 'btn btn-small btn-primary', testid: 'device-rename-save' }, 'Save');
    const cancel = h('button', { type: 'button', class: 'btn btn-small' }, 'Cancel');
    const form = h('form', { class: 'inline-form', novalidate: true },
      h('label', { for: id, class: 'visually-hidden' }, `New name for ${row.device.name || 'this device'}`),
      input,
      h('div', { class: 'btn-row' }, save, cancel),
      error,
    );
    const close = (focusRename = true) => {
      form.remove();
      row.editor = null;
      row.nameText.hidden = false;
      row.rename.disabled = false;
      if (focusRename) row.rename.focus();
    };
    cancel.addEventListener('click', () => close());
    form.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') {
        e.preventDefault();
        close();
      }
    });
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const name = input.value.trim();
      if (!name) {
        error.textContent = 'Enter a name.';
        error.hidden = false;
        input.focus();
        return;
      }
      if (name === row.device.name) {
        close();
        return;
      }
      save.disabled = true;
      try {
        await api.renameDevice(row.fp, name);
        row.device = { ...row.device, name };
        setText(row.nameText, name);
        close();
        msg.show(`Renamed to “${name}”.`, 'ok');
        refresh();
      } catch (err) {
        if (err.status === 404) {
          close(false);
          msg.show('That device is no longer paired.', 'error');
          refresh();
        } else if (err.status !== 401) {
          error.textContent = err.message;
          error.hidden = false;
          input.focus();
        }
      } finally {
        save.disabled = false;
      }
    });
    row.editor = form;
    row.nameText.hidden = true;
    row.rename.disabled = true;
    row.nameCell.append(form);
    input.focus();
    input.select();
  }

  async function doUnpair(row) {
    const name = row.device.name || 'this device';
    const ok = await confirmDialog({
      title: `Unpair ${name}?`,
      message: 'It will have to pair again with a PIN before it can stream. Its live sessions end now.',
      confirmLabel: 'Unpair',
    });
    if (!ok || !alive) return;
    row.unpair.disabled = true;
    try {
      await api.unpairDevice(row.fp);
      msg.show(`Unpaired “${name}”.`, 'ok');
      // Gone at once; the refetch (and the device_unpaired event) confirm it.
      row.tr.remove();
      rows.delete(row.fp);
      const none = rows.size === 0;
      table.hidden = none;
      empty.hidden = !none;
      refresh();
    } catch (e) {
      if (e.status === 404) refresh();
      else if (e.status !== 401) msg.show(e.message, 'error');
    } finally {
      row.unpair.disabled = false;
    }
  }

  const unsubscribe = onEvents(['open', 'device_paired', 'device_unpaired', 'device_renamed', 'pairing_completed'], () => refresh());
  // Relative times ("2 minutes ago") age without new data.
  const ageTimer = setInterval(() => {
    for (const row of rows.values()) updateRow(row, row.device);
  }, 30000);
  refresh();

  return () => {
    alive = false;
    clearInterval(ageTimer);
    unsubscribe();
  };
}
