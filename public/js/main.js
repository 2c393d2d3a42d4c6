// Wiring: reads the page's configuration, owns the one state variable, and
// connects the stream manager, the view and the browser's events. Logic
// lives in state.js (what happens) and view.js (what it looks like).

import { originLabel, serviceLabel } from './format.js';
import { matchesFilters } from './filters.js';
import { applyEvent, createState } from './state.js';
import { StreamManager } from './stream.js';
import { DEFAULT_BACKLOG, buildPageSearch, buildStreamUrl, parsePageParams, resolveStreamUrl } from './url.js';
import { createView } from './view.js';

const RENDER_DELAY_MS = 30; // batches a burst of notifications (the backlog) into one render
const ANNOUNCE_DELAY_MS = 1500; // batches screen reader announcements
const DESKTOP_DELAY_MS = 1000; // batches desktop notifications
const BACKLOG_QUIET_MS = 2000; // no desktop notification for a backlog replayed after a fresh open or a reset
const AGE_REFRESH_MS = 30 * 1000;
const DESKTOP_KEY = 'nasqueron-notifications.desktop';

function readMeta(doc) {
  const meta = doc.querySelector('meta[name="notifications-stream"]');
  return meta ? meta.getAttribute('content') : null;
}

function storageGet(key) {
  try {
    return window.localStorage.getItem(key);
  } catch {
    return null; // storage disabled: the opt-in lasts for this page only
  }
}

function storageSet(key, value) {
  try {
    if (value === null) window.localStorage.removeItem(key);
    else window.localStorage.setItem(key, value);
  } catch {
    // same as above
  }
}

function main() {
  const params = parsePageParams(window.location.search);
  let state = createState({
    filters: params.filters,
    q: params.q,
    hidden: document.visibilityState === 'hidden',
  });

  let renderTimer = null;
  let announceCount = 0;
  let announceTimer = null;
  let desktopQueue = [];
  let desktopTimer = null;
  let desktopEnabled = false;
  let quietUntil = 0; // before this time, arrivals are a backlog, not news
  let stream = null;

  const view = createView(document, {
    onFilters: ({ filters, q }) => dispatch({ type: 'filters', filters, q }),
    onPauseToggle: () => dispatch({ type: state.paused ? 'resume' : 'pause' }),
    onResume: () => dispatch({ type: 'resume' }),
    onClear: () => dispatch({ type: 'clear' }),
    onDismissNotice: () => dispatch({ type: 'dismissNotice' }),
    onDesktopToggle: () => toggleDesktop(),
  });

  function renderNow() {
    if (renderTimer !== null) clearTimeout(renderTimer);
    renderTimer = null;
    view.render(state);
  }

  function scheduleRender() {
    if (renderTimer !== null) return;
    renderTimer = setTimeout(() => {
      renderTimer = null;
      view.render(state);
    }, RENDER_DELAY_MS);
  }

  function updateUrl() {
    const search = buildPageSearch(window.location.search, state.filters, state.q);
    const target = `${window.location.pathname}${search}${window.location.hash}`;
    const now = `${window.location.pathname}${window.location.search}${window.location.hash}`;
    if (target !== now) window.history.replaceState(window.history.state, '', target);
  }

  function dispatch(event) {
    const prev = state;
    state = applyEvent(state, event);
    if (state === prev) return;
    if (state.accepted) onAccepted(state.accepted);
    if (state.filters !== prev.filters || state.q !== prev.q) updateUrl();
    if (state.streamGeneration !== prev.streamGeneration && stream) stream.restart();
    view.setTitle(state.unseen); // now, even while hidden
    if (event.type === 'notification') scheduleRender();
    else renderNow(); // the user's clicks get their answer at once
  }

  // --- side effects of a new notification ----------------------------------

  function onAccepted(n) {
    if (!matchesFilters(n, state.filters, state.q)) return;
    announceCount += 1;
    if (announceTimer === null) {
      announceTimer = setTimeout(() => {
        announceTimer = null;
        const k = announceCount;
        announceCount = 0;
        const what = k === 1 ? '1 new notification' : `${k} new notifications`;
        view.announce(state.paused ? `${what} waiting (paused)` : what);
      }, ANNOUNCE_DELAY_MS);
    }
    if (document.visibilityState === 'hidden' && desktopEnabled && Date.now() >= quietUntil) {
      desktopQueue.push(n);
      if (desktopTimer === null) desktopTimer = setTimeout(flushDesktop, DESKTOP_DELAY_MS);
    }
  }

  function flushDesktop() {
    desktopTimer = null;
    const batch = desktopQueue;
    desktopQueue = [];
    if (!desktopEnabled || batch.length === 0 || !('Notification' in window)) return;
    if (Notification.permission !== 'granted') return;
    let title;
    let body;
    let tag;
    if (batch.length === 1) {
      const n = batch[0];
      title = `${serviceLabel(n.service)} · ${originLabel(n.project, n.group)}`;
      body = n.text ?? n.type ?? '';
      tag = `nasqueron-${n.id}`;
    } else {
      // A burst (e.g. a backlog after a reset) is one notification, not fifty.
      title = `${batch.length} new Nasqueron notifications`;
      body = batch
        .slice(-3)
        .reverse()
        .map((n) => `${serviceLabel(n.service)}: ${n.text ?? n.type ?? ''}`)
        .join('\n');
      tag = 'nasqueron-batch';
    }
    try {
      const shown = new Notification(title, { body, tag, icon: 'img/favicon.svg' });
      shown.onclick = () => {
        window.focus();
        shown.close();
      };
    } catch {
      // Some browsers (Chrome on Android) only allow them from a service worker.
    }
  }

  function desktopMode() {
    if (!('Notification' in window)) return 'unsupported';
    if (Notification.permission === 'denied') return 'denied';
    return desktopEnabled && Notification.permission === 'granted' ? 'on' : 'off';
  }

  async function toggleDesktop() {
    if (!('Notification' in window)) return;
    if (desktopEnabled) {
      desktopEnabled = false;
    } else {
      let permission = Notification.permission;
      // Asked only here, after the user's click, as browsers require.
      if (permission === 'default') permission = await Notification.requestPermission();
      desktopEnabled = permission === 'granted';
    }
    storageSet(DESKTOP_KEY, desktopEnabled ? 'on' : null);
    view.setDesktop(desktopMode());
  }

  // --- start ---------------------------------------------------------------

  desktopEnabled =
    'Notification' in window && Notification.permission === 'granted' && storageGet(DESKTOP_KEY) === 'on';
  view.setDesktop(desktopMode());
  view.render(state);

  const resolved = resolveStreamUrl({
    pageHref: window.location.href,
    streamParam: params.stream,
    metaContent: readMeta(document),
  });
  if (resolved.error) {
    view.showFatal(resolved.error);
    return;
  }
  if (typeof window.EventSource !== 'function') {
    view.showFatal('This browser cannot receive live notifications (no EventSource).');
    return;
  }

  stream = new StreamManager({
    buildUrl: (lastEventId) =>
      buildStreamUrl(resolved.url, state.filters, { backlog: DEFAULT_BACKLOG, lastEventId }),
    EventSource: window.EventSource,
    onEvent: (type, event) => {
      let data = null;
      try {
        data = JSON.parse(event.data);
      } catch {
        if (type === 'notification') return; // malformed: nothing to show
      }
      if (type === 'reset') quietUntil = Date.now() + BACKLOG_QUIET_MS;
      dispatch({ type, data, lastEventId: event.lastEventId, receivedAt: Date.now() });
    },
    onStatus: (status, retryInMs) => {
      // A fresh stream (no position) starts with the backlog.
      if (status === 'live' && stream && stream.lastEventId === null) quietUntil = Date.now() + BACKLOG_QUIET_MS;
      dispatch({ type: 'status', status, retryInMs });
    },
    isOnline: () => navigator.onLine !== false,
  });
  stream.start();

  window.addEventListener('online', () => stream.online());
  window.addEventListener('offline', () => stream.offline());
  document.addEventListener('visibilitychange', () => {
    const hidden = document.visibilityState === 'hidden';
    dispatch({ type: 'visibility', hidden });
    if (!hidden) view.refreshTimes();
  });
  // Leaving the page (or entering the back/forward cache) closes the stream;
  // coming back from that cache resumes after the last id.
  window.addEventListener('pagehide', () => stream.stop());
  window.addEventListener('pageshow', (e) => {
    if (e.persisted) stream.resume();
  });
  setInterval(() => {
    if (document.visibilityState !== 'hidden') view.refreshTimes();
  }, AGE_REFRESH_MS);
}

main();
