// The view: the only module that touches the DOM.
//
// It renders a state (state.js) into the elements of index.html and turns
// the user's clicks and keys into calls on the handlers it is given; it
// holds no application state of its own beyond the rows it has built.
//
// Safety: every string that came from the server reaches the DOM through
// `textContent` or an attribute set with setAttribute on a fixed name, never
// through markup parsing (no HTML-string APIs at all). Links are made clickable only
// for http(s) URLs (format.js safeLink), open in a new tab, without opener
// or referrer.

import {
  countLabel,
  downBanner,
  formatClock,
  formatRelative,
  newCountLabel,
  originLabel,
  pageTitle,
  safeLink,
  serviceLabel,
  serviceSlug,
  statusLabel,
  timeTitle,
} from './format.js';
import { MAX_ROWS, visibleItems } from './state.js';

const KNOWN_SERVICES = ['GitHub', 'Jenkins', 'Phabricator', 'DockerHub'];
const KNOWN_GROUPS = ['ops', 'ci', 'docker', 'devtools', 'orgz'];
const KNOWN_PROJECTS = ['Nasqueron'];
const NO_GROUP = '__none__'; // the <option> for group "" (the empty group)
const SEVERAL = '__several__'; // the <option> for several values from the URL
const SEARCH_DEBOUNCE_MS = 200;
const ANIMATE_MAX = 5; // at most this many new rows in one render slide in
const BUILD_SLICE_MS = 8; // building rows stops after this long and goes on in a next task

const RESET_REASONS = {
  'unknown-last-event-id': 'the server no longer knew where this page had stopped',
  'upstream-reset': 'the delivery API restarted its history',
};

function el(doc, tag, className, text) {
  const node = doc.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

function option(doc, label, value = label) {
  const node = doc.createElement('option');
  node.value = value;
  node.textContent = label;
  return node;
}

function sameList(a, b) {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/**
 * Takes over the page's elements. `options`: { locale, timeZone } for dates
 * (undefined: the browser's), kiosk (the wall-screen mode). The user's actions reach the handlers given
 * to bind(): onFilters({ filters?, q? }), onPauseToggle(), onResume(),
 * onClear(), onDismissNotice(), onDesktopToggle(); before bind() they are
 * ignored.
 */
export function createView(doc, options = {}) {
  const noop = () => {};
  let handlers = {
    onFilters: noop,
    onPauseToggle: noop,
    onResume: noop,
    onClear: noop,
    onDismissNotice: noop,
    onDesktopToggle: noop,
  };
  const $ = (id) => doc.getElementById(id);
  const ui = {
    status: $('status'),
    statusText: $('status-text'),
    form: $('filters'),
    service: $('filter-service'),
    project: $('filter-project'),
    projects: $('known-projects'),
    group: $('filter-group'),
    q: $('filter-q'),
    urlFilters: $('url-filters'),
    pause: $('pause'),
    newCount: $('new-count'),
    clear: $('clear'),
    desktop: $('desktop'),
    count: $('count'),
    notice: $('notice'),
    noticeText: $('notice-text'),
    noticeDismiss: $('notice-dismiss'),
    list: $('notifications'),
    empty: $('empty'),
    announcer: $('announcer'),
    banner: $('banner'),
    bannerText: $('banner-text'),
  };
  const kiosk = Boolean(options.kiosk);
  // Wall-screen mode: no controls, larger type (style.css), a banner while down.
  if (kiosk) doc.documentElement.classList.add('kiosk');
  const dateOptions = { locale: options.locale, timeZone: options.timeZone };
  const win = doc.defaultView;
  const clock = options.clock ?? (() => win.performance.now()); // for the build budget only
  const rows = new Map(); // id -> { li, time, age, ms }
  let buildTimer = null; // continues building rows after a slice ran out of time
  let shownCount = 0; // how many notifications pass the filters
  let lastNow = 0; // the time of the last render
  let last = null; // the state last rendered
  let lastOptions = { services: [], groups: [], projects: [] };
  let searchTimer = null;

  // --- user input -> handlers ----------------------------------------------

  /** Routes the user's actions to `h` (the controller's handlers). */
  function bind(h) {
    handlers = { ...handlers, ...h };
  }

  const current = () => last;
  const filtersWith = (key, values) => ({ ...current().filters, [key]: values });

  ui.service.addEventListener('change', () => {
    if (ui.service.value === SEVERAL) return;
    handlers.onFilters({ filters: filtersWith('service', ui.service.value ? [ui.service.value] : []) });
  });
  ui.group.addEventListener('change', () => {
    const v = ui.group.value;
    if (v === SEVERAL) return;
    handlers.onFilters({ filters: filtersWith('group', v === '' ? [] : [v === NO_GROUP ? '' : v]) });
  });
  const commitProject = () => {
    const values = ui.project.value.split(',').map((s) => s.trim()).filter(Boolean);
    if (!sameList(values, current().filters.project)) handlers.onFilters({ filters: filtersWith('project', values) });
  };
  ui.project.addEventListener('change', commitProject);
  const commitSearch = () => {
    clearTimeout(searchTimer);
    searchTimer = null;
    if (ui.q.value.trim() !== current().q.trim()) handlers.onFilters({ q: ui.q.value.trim() });
  };
  ui.q.addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(commitSearch, SEARCH_DEBOUNCE_MS);
  });
  ui.form.addEventListener('submit', (e) => {
    e.preventDefault();
    commitProject();
    commitSearch();
  });
  ui.form.addEventListener('reset', (e) => {
    e.preventDefault();
    clearTimeout(searchTimer);
    handlers.onFilters({ filters: {}, q: '' });
  });
  ui.pause.addEventListener('click', () => handlers.onPauseToggle());
  ui.newCount.addEventListener('click', () => handlers.onResume());
  ui.clear.addEventListener('click', () => handlers.onClear());
  ui.noticeDismiss.addEventListener('click', () => handlers.onDismissNotice());
  ui.desktop.addEventListener('click', () => handlers.onDesktopToggle());

  // --- rendering -----------------------------------------------------------

  function fillOptions(select, values, labelOf, firstLabel) {
    // Rebuilt only when the list changes, so an open <select> is not disturbed.
    const keep = select.value;
    select.replaceChildren(option(doc, firstLabel, ''));
    for (const v of values) select.append(option(doc, labelOf(v), v));
    select.value = keep;
  }

  function renderFilters(state) {
    const f = state.filters;
    const seen = (key) => state.items.map((n) => n[key]).filter((v) => typeof v === 'string' && v.trim() !== '');
    const uniq = (list) => {
      const out = [];
      const folded = new Set();
      for (const v of list) {
        const k = v.toLowerCase();
        if (!folded.has(k)) {
          folded.add(k);
          out.push(v);
        }
      }
      return out;
    };
    const services = uniq([...KNOWN_SERVICES, ...f.service, ...seen('service')]);
    const groups = uniq([...KNOWN_GROUPS, ...f.group.filter(Boolean), ...seen('group')]);
    const projects = uniq([...KNOWN_PROJECTS, ...f.project, ...seen('project')]);
    if (!sameList(services, lastOptions.services) || f.service.length > 1) {
      fillOptions(ui.service, services, (v) => v, 'All services');
      if (f.service.length > 1) ui.service.append(option(doc, f.service.join(' or '), SEVERAL));
    }
    if (!sameList(groups, lastOptions.groups) || f.group.length > 1 || f.group.includes('')) {
      fillOptions(ui.group, groups, (v) => v, 'All groups');
      ui.group.append(option(doc, '(no group)', NO_GROUP));
      if (f.group.length > 1) {
        ui.group.append(option(doc, f.group.map((g) => g || '(no group)').join(' or '), SEVERAL));
      }
    }
    if (!sameList(projects, lastOptions.projects)) {
      ui.projects.replaceChildren(...projects.map((p) => option(doc, p)));
    }
    lastOptions = { services, groups, projects };

    const pick = (values, transform = (v) => v) => {
      if (values.length === 0) return '';
      if (values.length > 1) return SEVERAL;
      return transform(values[0]);
    };
    const serviceValue = pick(f.service, (v) => services.find((s) => s.toLowerCase() === v.toLowerCase()) ?? v);
    const groupValue = pick(f.group, (v) => (v === '' ? NO_GROUP : groups.find((g) => g.toLowerCase() === v.toLowerCase()) ?? v));
    if (ui.service.value !== serviceValue) ui.service.value = serviceValue;
    if (ui.group.value !== groupValue) ui.group.value = groupValue;
    const projectText = f.project.join(', ');
    if (doc.activeElement !== ui.project && ui.project.value !== projectText) ui.project.value = projectText;
    if (doc.activeElement !== ui.q && searchTimer === null && ui.q.value !== state.q) ui.q.value = state.q;

    const extra = [];
    if (f.type.length) extra.push(`type is ${f.type.join(' or ')}`);
    if (f.key.length) extra.push(`routing key matches ${f.key.join(' or ')}`);
    ui.urlFilters.hidden = extra.length === 0;
    ui.urlFilters.textContent = extra.length ? `Also filtered by the address: ${extra.join('; ')}.` : '';
  }

  function buildRow(n, now) {
    const slug = serviceSlug(n.service);
    const li = el(doc, 'li', `entry entry--${slug}`);
    li.dataset.id = n.id;

    const meta = el(doc, 'div', 'entry__meta');
    const badge = el(doc, 'span', `badge badge--${slug}`);
    badge.append(el(doc, 'span', 'badge__icon'), el(doc, 'span', 'badge__name', serviceLabel(n.service)));
    meta.append(badge);
    meta.append(el(doc, 'span', 'entry__origin', originLabel(n.project, n.group)));
    if (n.type) meta.append(el(doc, 'span', 'entry__type', n.type));

    const when = el(doc, 'span', 'entry__when');
    const time = el(doc, 'time', 'entry__time', formatClock(n.timeMs, now, dateOptions));
    time.setAttribute('datetime', n.time);
    time.setAttribute('title', timeTitle(n.timeMs, now, dateOptions));
    const age = el(doc, 'span', 'entry__age', formatRelative(n.timeMs, now));
    when.append(time, age);
    meta.append(when);
    li.append(meta);

    const hasText = typeof n.text === 'string' && n.text.trim() !== '';
    li.append(el(doc, 'p', hasText ? 'entry__text' : 'entry__text entry__text--empty', hasText ? n.text : '(no text)'));

    if (typeof n.link === 'string' && n.link.trim() !== '') {
      const p = el(doc, 'p', 'entry__link');
      const link = safeLink(n.link);
      if (link) {
        const a = el(doc, 'a', 'entry__href', link.label);
        a.setAttribute('href', link.href);
        a.setAttribute('target', '_blank');
        a.setAttribute('rel', 'noopener noreferrer');
        a.setAttribute('title', link.href);
        p.append(a);
      } else {
        p.append(el(doc, 'span', 'entry__href entry__href--plain', n.link));
        p.append(el(doc, 'span', 'entry__unsafe', ' (not a web link, not clickable)'));
      }
      li.append(p);
    }
    return { li, time, age, ms: n.timeMs };
  }

  // Makes the list show `visible` (newest first): drops rows no longer
  // wanted, builds missing ones newest first for at most BUILD_SLICE_MS, and
  // leaves the rest for a next task (a burst of 500 new rows would otherwise
  // hold the main thread for hundreds of ms). Rows in the list are always a
  // subsequence of `visible`, in order, never more than MAX_ROWS.
  function renderList(visible, now) {
    if (buildTimer !== null) win.clearTimeout(buildTimer);
    buildTimer = null;
    const wanted = new Set(visible.map((n) => n.id));
    for (const [id, row] of rows) {
      if (!wanted.has(id)) {
        row.li.remove();
        rows.delete(id);
      }
    }
    // A few arrivals slide in; a burst (the backlog, a reconnect) just appears.
    let missing = 0;
    for (const n of visible) if (!rows.has(n.id)) missing += 1;
    const animate = rows.size > 0 && missing <= ANIMATE_MAX;
    const deadline = clock() + BUILD_SLICE_MS;
    let cursor = ui.list.firstElementChild;
    let deferred = false;
    for (const n of visible) {
      let row = rows.get(n.id);
      if (!row) {
        if (deferred || clock() > deadline) {
          deferred = true;
          continue;
        }
        row = buildRow(n, now);
        rows.set(n.id, row);
        if (animate) {
          row.li.classList.add('entry--new');
          row.li.addEventListener('animationend', () => row.li.classList.remove('entry--new'), { once: true });
        }
      }
      if (row.li === cursor) cursor = cursor.nextElementSibling;
      else ui.list.insertBefore(row.li, cursor);
    }
    if (deferred) {
      buildTimer = win.setTimeout(() => {
        buildTimer = null;
        renderList(visibleItems(last), lastNow);
      }, 0);
    }
  }

  function renderCounts(state, shown) {
    const total = state.items.length;
    let text;
    if (total === 0) text = state.status === 'live' ? 'No notifications yet' : 'Nothing received yet';
    else if (shown === total) text = countLabel(total);
    else text = `${shown} of ${countLabel(total)} match the search`;
    if (total >= MAX_ROWS) text += ` (the latest ${MAX_ROWS} are kept)`;
    ui.count.textContent = text;

    ui.empty.hidden = shown > 0;
    if (shown === 0) {
      if (total > 0) ui.empty.textContent = 'No notification matches these filters.';
      else if (state.paused && state.pendingCount > 0) ui.empty.textContent = 'Paused: new notifications are waiting.';
      else ui.empty.textContent = 'Waiting for notifications…';
    }
  }

  function renderNotice(state, now) {
    const notice = state.notice;
    ui.notice.hidden = notice === null;
    if (notice === null) return;
    const why = RESET_REASONS[notice.reason] ?? `reason: ${notice.reason}`;
    const at = notice.at === null ? '' : ` at ${formatClock(notice.at, now, dateOptions)}`;
    ui.noticeText.textContent = `The stream was reset${at} (${why}): the list starts again from the server's recent history, so notifications from before may be missing.`;
  }

  /** Renders `state`; cheap when little changed. */
  function render(state, now = Date.now()) {
    const prev = last;
    last = state;
    lastNow = now;
    ui.status.dataset.state = state.status;
    ui.statusText.textContent = statusLabel(state.status, state.retryInMs);

    ui.pause.textContent = state.paused ? 'Resume' : 'Pause';
    ui.pause.setAttribute('aria-label', state.paused ? 'Resume the live list' : 'Pause the live list');
    ui.newCount.hidden = !state.paused || state.pendingCount === 0;
    ui.newCount.textContent = newCountLabel(state.pendingCount);
    ui.newCount.setAttribute('aria-label', `${newCountLabel(state.pendingCount)}: resume and show them`);
    ui.clear.disabled = state.items.length === 0 && state.pendingCount === 0;

    if (!prev || prev.filters !== state.filters || prev.q !== state.q || prev.items !== state.items) {
      renderFilters(state);
    }
    if (!prev || prev.items !== state.items || prev.filters !== state.filters || prev.q !== state.q) {
      shownCount = visibleItems(state);
      renderList(shownCount, now);
      shownCount = shownCount.length;
    }
    renderCounts(state, shownCount);
    if (!prev || prev.notice !== state.notice) renderNotice(state, now);
    renderBanner(state, now);
    setTitle(state.unseen);
  }

  function renderBanner(state, now) {
    const text = kiosk && state ? downBanner(state, now, dateOptions) : null;
    ui.banner.hidden = text === null;
    if (text !== null && ui.bannerText.textContent !== text) ui.bannerText.textContent = text;
  }

  /** Refreshes every row's relative age (call every ~30 s). */
  function refreshTimes(now = Date.now()) {
    // Only what changed is written: a refresh of 500 rows touches the few
    // labels whose words moved on, not 1,500 nodes every 30 s.
    const set = (node, text) => {
      if (node.textContent !== text) node.textContent = text;
    };
    for (const row of rows.values()) {
      set(row.age, formatRelative(row.ms, now));
      set(row.time, formatClock(row.ms, now, dateOptions));
      const title = timeTitle(row.ms, now, dateOptions);
      if (row.time.getAttribute('title') !== title) row.time.setAttribute('title', title);
    }
    renderBanner(last, now);
  }

  function setTitle(unseen) {
    const title = pageTitle(unseen);
    if (doc.title !== title) doc.title = title;
  }

  /** Says something to screen readers (the polite live region). */
  function announce(message) {
    ui.announcer.textContent = message;
  }

  /** Desktop notifications button: 'unsupported' | 'denied' | 'off' | 'on'. */
  function setDesktop(mode) {
    ui.desktop.disabled = mode === 'unsupported' || mode === 'denied';
    ui.desktop.setAttribute('aria-pressed', mode === 'on' ? 'true' : 'false');
    ui.desktop.dataset.mode = mode;
    const title = {
      unsupported: 'This browser cannot show desktop notifications',
      denied: 'Desktop notifications are blocked for this site in the browser settings',
      off: 'Show a desktop notification for what arrives while this tab is hidden',
      on: 'Desktop notifications are on for what arrives while this tab is hidden; click to turn them off',
    }[mode];
    ui.desktop.setAttribute('title', title);
  }

  /**
   * The page cannot start: say why, in place of the list. `status`: 'error'
   * (a bad stream URL in the configuration) or 'refused' (a ?stream= link
   * to an origin not allowed).
   */
  function showFatal(message, status = 'error') {
    ui.status.dataset.state = 'error';
    ui.statusText.textContent = statusLabel(status);
    ui.empty.hidden = false;
    ui.empty.textContent = message;
  }

  return { bind, render, refreshTimes, setTitle, announce, setDesktop, showFatal };
}

