// Settings: the host's effective configuration, read-only. Whatever shape it has is rendered
// as nested definition lists; the raw JSON is there to copy.

import * as api from '../api.js';
import { h, messageArea } from '../dom.js';

export const title = 'Settings';

export function mount(root) {
  let alive = true;
  const msg = messageArea('settings-message');
  const body = h('div', { testid: 'config' }, h('p', { class: 'muted' }, 'Loading configuration…'));
  const raw = h('pre', { class: 'raw mono', tabindex: '0', 'aria-label': 'Configuration as JSON' });
  const reload = h('button', { type: 'button', class: 'btn', on: { click: load } }, 'Reload');

  root.append(
    h('div', { class: 'page-head' }, h('h1', null, 'Settings'), reload),
    h('p', { class: 'muted' }, 'The configuration this host runs with. Change it with command-line options or the config file, then restart the host.'),
    msg.el,
    h('section', { class: 'card', 'aria-label': 'Effective configuration' },
      body,
      h('details', { class: 'raw-details' }, h('summary', null, 'Show as JSON'), raw),
    ),
  );

  async function load() {
    reload.disabled = true;
    try {
      const cfg = await api.config();
      if (!alive) return;
      body.replaceChildren(render(cfg));
      raw.textContent = JSON.stringify(cfg, null, 2);
      msg.clear();
    } catch (e) {
      if (alive && e.status !== 401) msg.show(`Could not load the configuration: ${e.message}`, 'error');
    } finally {
      reload.disabled = false;
    }
  }

  load();
  return () => {
    alive = false;
  };
}

function render(value, depth = 0) {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const keys = Object.keys(value);
    if (keys.length === 0) return h('span', { class: 'muted' }, '(empty)');
    const dl = h('dl', { class: depth === 0 ? 'config' : 'config nested' });
    for (const key of keys) {
      dl.append(h('div', { class: 'config-item' },
        h('dt', { class: 'mono' }, key),
        h('dd', { 'data-key': key }, render(value[key], depth + 1))));
    }
    return dl;
  }
  if (Array.isArray(value)) {
    if (value.length === 0) return h('span', { class: 'muted' }, '(none)');
    if (value.every((v) => v === null || typeof v !== 'object')) return h('span', null, value.map(scalar).join(', '));
    return h('ol', { class: 'config-list' }, value.map((v) => h('li', null, render(v, depth + 1))));
  }
  if (value === null || value === undefined) return h('span', { class: 'muted' }, 'not set');
  if (typeof value === 'boolean') return h('span', { class: value ? 'badge badge-on' : 'badge' }, value ? 'on' : 'off');
  return h('span', { class: typeof value === 'number' ? 'mono' : null }, scalar(value));
}

function scalar(v) {
  if (v === null || v === undefined) return 'not set';
  return String(v);
}
