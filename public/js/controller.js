// The controller: owns the page's one state variable, turns what happens
// (the user's actions, stream events, the tab hidden or shown, the clock)
// into applyEvent() calls, and asks the view to render, in batches.
//
// Like TodoMVC's controller.js: it binds the view's handlers and holds the
// side effects (timers, the page URL, desktop notifications), but touches
// neither the DOM nor any browser global: the clock, timers, location and
// history are injected, so node tests drive it with fakes. One per page,
// used from the page's event loop.

import { matchesFilters } from './filters.js';
import { applyEvent } from './state.js';
import { buildPageSearch } from './url.js';

/** A burst of notifications (the backlog) is rendered once, this long after its first. */
export const RENDER_DELAY_MS = 30;
/**
 * More arrivals than this between two renders is a flood: then the list is
 * rendered at most once per FLOOD_RENDER_INTERVAL_MS (each such render may
 * replace all 500 rows: the rows built per second stay bounded whatever
 * the rate, docs/page.md "Under load").
 */
export const FLOOD_ROWS = 10;
export const FLOOD_RENDER_INTERVAL_MS = 1000;
/** Screen reader announcements are batched over this long. */
export const ANNOUNCE_DELAY_MS = 1500;
/** No desktop notification for a backlog replayed this long after a fresh open or a reset. */
export const BACKLOG_QUIET_MS = 2000;
/**
 * Stream events are queued as they arrive and applied in slices of about
 * this long, so that a burst (the browser dispatches a whole chunk of a
 * thousand events in one task) never holds the main thread (docs/page.md,
 * "Under load").
 */
export const SLICE_MS = 8;

/**
 * @param {object} options
 * @param {object} options.view  from createView (bind, render, refreshTimes, setTitle, announce, setDesktop).
 * @param {object} options.desktop  from createDesktopNotifier (mode, toggle, push).
 * @param {object} options.state  the initial state (createState).
 * @param {() => number} options.now  the clock, ms since the epoch.
 * @param {Function} options.setTimeout  and clearTimeout: the page's timers.
 * @param {() => boolean} options.isHidden  whether the tab is hidden now.
 * @param {{pathname: string, search: string, hash: string}} options.location  the page's location (read live).
 * @param {(url: string) => void} options.replaceUrl  history.replaceState to that path+search+hash.
 */
export function createController({ view, desktop, state: initial, now, setTimeout: setTimer, clearTimeout: clearTimer, isHidden, location, replaceUrl }) {
  let state = initial;
  let stream = null; // the connection (StreamManager or shared feed), once attached
  let renderTimer = null;
  let announceCount = 0;
  let announceTimer = null;
  let quietUntil = 0; // before this time, arrivals are a backlog, not news
  let lastRenderAt = -Infinity;
  let arrived = 0; // notifications accepted since the last render
  let inbox = []; // stream events not applied yet, in arrival order
  let inboxHead = 0; // index of the next one
  let drainTimer = null;

  function renderNow() {
    if (renderTimer !== null) clearTimer(renderTimer);
    renderTimer = null;
    const t = now();
    view.render(state, t);
    lastRenderAt = t;
    arrived = 0;
  }

  function renderLater() {
    renderTimer = null;
    const wait = lastRenderAt + FLOOD_RENDER_INTERVAL_MS - now();
    if (arrived > FLOOD_ROWS && wait > 0) renderTimer = setTimer(renderLater, wait);
    else renderNow();
  }

  function scheduleRender() {
    if (renderTimer === null) renderTimer = setTimer(renderLater, RENDER_DELAY_MS);
  }

  function updateUrl() {
    const search = buildPageSearch(location.search, state.filters, state.q);
    const target = `${location.pathname}${search}${location.hash}`;
    const current = `${location.pathname}${location.search}${location.hash}`;
    if (target !== current) replaceUrl(target);
  }

  // Applies one event and its side effects; returns whether the state changed.
  function apply(event) {
    const prev = state;
    state = applyEvent(state, event);
    if (state === prev) return false;
    if (state.accepted) {
      arrived += 1;
      onAccepted(state.accepted, event.receivedAt);
    }
    if (state.filters !== prev.filters || state.q !== prev.q) updateUrl();
    if (state.streamGeneration !== prev.streamGeneration && stream) {
      quietUntil = now() + BACKLOG_QUIET_MS; // what a restart brings first is a backlog
      stream.restart();
    }
    return true;
  }

  function applyQueued(e) {
    let data = null;
    try {
      data = JSON.parse(e.raw);
    } catch {
      if (e.type === 'notification') return false; // malformed: nothing to show
    }
    return apply({ type: e.type, data, lastEventId: e.lastEventId, receivedAt: e.receivedAt });
  }

  // Applies queued stream events until `deadline` (at least one), or all.
  function drain(deadline = Infinity) {
    let changed = false;
    while (inboxHead < inbox.length) {
      const e = inbox[inboxHead];
      inbox[inboxHead] = null;
      inboxHead += 1;
      changed = applyQueued(e) || changed;
      if (now() >= deadline) break;
    }
    if (inboxHead >= inbox.length) {
      inbox = [];
      inboxHead = 0;
    }
    return changed;
  }

  function drainSlice() {
    drainTimer = null;
    const changed = drain(now() + SLICE_MS);
    if (inboxHead < inbox.length) drainTimer = setTimer(drainSlice, 0);
    if (changed) {
      view.setTitle(state.unseen); // now, even while hidden
      scheduleRender(); // once the burst is applied: rows for the newest only
    }
  }

  /** Applies an event at once (the user's actions, status), after what the stream queued. */
  function dispatch(event) {
    const drained = drain();
    const changed = apply(event);
    if (!drained && !changed) return;
    view.setTitle(state.unseen);
    renderNow(); // the user's clicks get their answer at once
  }

  function announce() {
    announceTimer = null;
    const k = announceCount;
    announceCount = 0;
    const what = k === 1 ? '1 new notification' : `${k} new notifications`;
    view.announce(state.paused ? `${what} waiting (paused)` : what);
  }

  function onAccepted(n, receivedAt) {
    if (!matchesFilters(n, state.filters, state.q)) return;
    announceCount += 1;
    if (announceTimer === null) announceTimer = setTimer(announce, ANNOUNCE_DELAY_MS);
    if (isHidden() && receivedAt >= quietUntil) desktop.push(n);
  }

  const handlers = {
    onFilters: ({ filters, q }) => dispatch({ type: 'filters', filters, q }),
    onPauseToggle: () => dispatch({ type: state.paused ? 'resume' : 'pause' }),
    onResume: () => dispatch({ type: 'resume' }),
    onClear: () => dispatch({ type: 'clear' }),
    onDismissNotice: () => dispatch({ type: 'dismissNotice' }),
    onDesktopToggle: async () => view.setDesktop(await desktop.toggle()),
  };
  view.bind(handlers);

  return {
    /** The current state (read-only; for tests and wiring). */
    get state() {
      return state;
    },
    dispatch,

    /** First render; call once the page's elements exist. */
    start() {
      view.setDesktop(desktop.mode());
      view.render(state, now());
    },

    /** The connection whose restart() a server-side filter change calls. */
    attachStream(s) {
      stream = s;
    },

    /**
     * A `notification` or `reset` event: { data (the raw JSON text),
     * lastEventId }. Queued, applied within a few ms (SLICE_MS slices).
     */
    streamEvent(type, { data: raw, lastEventId }) {
      const receivedAt = now();
      if (type === 'reset') quietUntil = receivedAt + BACKLOG_QUIET_MS;
      inbox.push({ type, raw, lastEventId, receivedAt });
      if (drainTimer === null) drainTimer = setTimer(drainSlice, 0);
    },

    /** Applies every queued stream event now (tests; the page does not need it). */
    flush() {
      if (drainTimer !== null) clearTimer(drainTimer);
      drainTimer = null;
      if (drain()) view.setTitle(state.unseen);
    },

    /** The connection's state; `fresh`: a stream opened without a position (it starts with the backlog). */
    streamStatus(status, retryInMs, { fresh = false } = {}) {
      const at = now();
      if (status === 'live' && fresh) quietUntil = at + BACKLOG_QUIET_MS;
      dispatch({ type: 'status', status, retryInMs, at });
    },

    /** The tab was hidden or shown. */
    visibility(hidden) {
      dispatch({ type: 'visibility', hidden });
      if (!hidden) view.refreshTimes(now());
    },

    /** The clock ticked (every ~30 s): refresh the relative ages while visible. */
    tick() {
      if (!isHidden()) view.refreshTimes(now());
    },
  };
}
