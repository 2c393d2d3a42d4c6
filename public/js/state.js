// The page's state and its one update function, applyEvent(state, event).
// Pure: applyEvent never mutates its arguments and touches no DOM, timer,
// clock or network; it returns a new state (or the same object when nothing
// changed). Time comes in with the events (`receivedAt`, the caller's clock
// in ms since the epoch), never from Date.now().
//
// Bounds: `items` (what the list holds, newest first) and `pending` (what
// arrived while paused, newest first) each keep at most MAX_ROWS
// notifications; the oldest are dropped. A page left open for a week holds
// at most 2 × MAX_ROWS notifications and the DOM at most MAX_ROWS rows.
//
// Events (plain objects, `type` first):
//   { type: 'notification', data, lastEventId?, receivedAt }
//       data: the parsed JSON of an SSE `notification` event (any value:
//       hostile or malformed data is normalized or dropped, never thrown on);
//       receivedAt is required (without it the notification is dropped)
//   { type: 'reset', data, receivedAt }       SSE `reset`: drop what is shown
//   { type: 'pause' } / { type: 'resume' }    buffer new items / show them
//   { type: 'clear' }                         empty the list and the buffer
//   { type: 'dismissNotice' }
//   { type: 'visibility', hidden }            tab hidden/shown (unseen count)
//   { type: 'status', status, retryInMs?, at? }  connection state for display;
//       `at` (ms since the epoch) dates a change from or to 'live': the
//       state keeps `downSince`, when the stream stopped being live (or when
//       the page started, until it first is), null while live
//   { type: 'filters', filters?, q? }         new filters; a server-side
//       change empties the list and bumps `streamGeneration`: the caller
//       reopens the stream fresh, with backlog.

import { emptyFilters, filtersMatcher, matchesFilters, matchesServerFilters, normalizeFilters, sameServerFilters } from './filters.js';

/** Most notifications kept (and rows rendered); documented in docs/page.md. */
export const MAX_ROWS = 500;

const STATUSES = new Set(['connecting', 'live', 'reconnecting', 'offline', 'error']);

/**
 * Shortlex order of ids (docs/delivery-api.md): a shorter id sorts first,
 * equal lengths compare character by character. Returns <0, 0 or >0.
 */
export function compareIds(a, b) {
  if (a.length !== b.length) return a.length - b.length;
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

const text = (v) => {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return null;
};

/**
 * A notification as the page uses it, from whatever the stream sent:
 * { id, synthetic, time (ISO string), timeMs, service, project, group,
 *   type, text, link } where the six payload fields are strings or null.
 * Returns null when `data` is not a JSON object. The id is data.id, else
 * `fallbackId` (the SSE id), else a synthetic one (never deduplicated).
 * A missing or unparsable time becomes `receivedAt` (ms since the epoch,
 * required: null is returned when it is not a finite number).
 */
export function normalizeNotification(data, { fallbackId = null, receivedAt = NaN, sequence = 0 } = {}) {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return null;
  if (!Number.isFinite(receivedAt)) return null;
  let id = text(data.id);
  let synthetic = false;
  if (!id) id = typeof fallbackId === 'string' && fallbackId !== '' ? fallbackId : null;
  if (!id) {
    id = `local-${receivedAt}-${sequence}`;
    synthetic = true;
  }
  let timeMs = typeof data.time === 'string' ? Date.parse(data.time) : NaN;
  if (!Number.isFinite(timeMs)) timeMs = receivedAt;
  return Object.freeze({
    id,
    synthetic,
    time: new Date(timeMs).toISOString(),
    timeMs,
    service: text(data.service),
    project: text(data.project),
    group: text(data.group),
    type: text(data.type),
    text: text(data.text),
    link: text(data.link),
  });
}

/**
 * The initial state. `filters` and `q` usually come from the page URL.
 * `filterInPage`: the stream is not filtered by the bridge (one stream
 * shared by tabs with different filters, shared.js), so notifications that
 * do not pass the server-side filters are dropped here, as the bridge would.
 */
export function createState({ filters = emptyFilters(), q = '', hidden = false, filterInPage = false, startedAt = null } = {}) {
  return Object.freeze({
    filterInPage: Boolean(filterInPage),
    downSince: Number.isFinite(startedAt) ? startedAt : null, // not live since (ms), null while live or unknown
    everLive: false,
    items: Object.freeze([]),
    pending: Object.freeze([]),
    pendingCount: 0,
    paused: false,
    lastId: null,
    hidden,
    unseen: 0,
    filters: normalizeFilters(filters),
    q: String(q ?? ''),
    status: 'connecting',
    retryInMs: null,
    notice: null,
    accepted: null,
    sequence: 0,
    streamGeneration: 0,
  });
}

const freeze = (s) => Object.freeze(s);
const capped = (list) => Object.freeze(list.length > MAX_ROWS ? list.slice(0, MAX_ROWS) : list);

// lastId only grows (a notification is accepted only after it), and every
// event that empties the lists may reset it: so every non-synthetic id in
// items and pending is <= lastId, and this one comparison is the whole
// dedupe (a scan of the 500 items per arrival cost a burst dearly).
function isDuplicate(state, n) {
  if (n.synthetic) return false;
  return state.lastId !== null && compareIds(n.id, state.lastId) <= 0;
}

function onNotification(state, event) {
  const sequence = state.sequence + 1;
  const n = normalizeNotification(event.data, {
    fallbackId: event.lastEventId ?? null,
    receivedAt: event.receivedAt,
    sequence,
  });
  if (n === null || isDuplicate(state, n) || (state.filterInPage && !matchesServerFilters(n, state.filters))) {
    return state.accepted === null ? state : freeze({ ...state, accepted: null });
  }
  const next = { ...state, sequence, accepted: n };
  if (!n.synthetic) next.lastId = n.id;
  if (state.paused) {
    next.pending = capped([n, ...state.pending]);
    next.pendingCount = state.pendingCount + 1;
  } else {
    next.items = capped([n, ...state.items]);
  }
  if (state.hidden && matchesFilters(n, state.filters, state.q)) next.unseen = state.unseen + 1;
  return freeze(next);
}

function onReset(state, event) {
  const data = event.data && typeof event.data === 'object' ? event.data : {};
  return freeze({
    ...state,
    items: Object.freeze([]),
    pending: Object.freeze([]),
    pendingCount: 0,
    // What follows the reset (the backlog) may have ids lower than what the
    // page saw before: forget them so it is not taken for duplicates.
    lastId: null,
    accepted: null,
    notice: Object.freeze({
      kind: 'reset',
      reason: typeof data.reason === 'string' ? data.reason : 'unknown',
      message: typeof data.message === 'string' ? data.message : '',
      at: Number.isFinite(event.receivedAt) ? event.receivedAt : null, // null: time unknown
    }),
  });
}

/**
 * Applies one event; see the list at the top of this file. Unknown event
 * types return `state` unchanged. After a 'notification', `accepted` is the
 * normalized notification when it was new (for side effects such as desktop
 * notifications), null when it was a duplicate or malformed; every other
 * event sets it to null.
 */
export function applyEvent(state, event) {
  if (!event || typeof event !== 'object') return state;
  const base = state.accepted === null ? state : { ...state, accepted: null };
  switch (event.type) {
    case 'notification':
      return onNotification(state, event);
    case 'reset':
      return onReset(state, event);
    case 'pause':
      return state.paused ? freeze(base) : freeze({ ...base, paused: true });
    case 'resume':
      if (!state.paused) return freeze(base);
      return freeze({
        ...base,
        paused: false,
        items: capped([...state.pending, ...state.items]),
        pending: Object.freeze([]),
        pendingCount: 0,
      });
    case 'clear':
      // lastId stays: a reconnect resumes after it, nothing comes back.
      return freeze({
        ...base,
        items: Object.freeze([]),
        pending: Object.freeze([]),
        pendingCount: 0,
        notice: null,
      });
    case 'dismissNotice':
      return freeze({ ...base, notice: null });
    case 'visibility': {
      const hidden = Boolean(event.hidden);
      return freeze({ ...base, hidden, unseen: hidden ? state.unseen : 0 });
    }
    case 'status': {
      if (!STATUSES.has(event.status)) return state;
      const retryInMs = Number.isFinite(event.retryInMs) ? event.retryInMs : null;
      if (state.status === event.status && state.retryInMs === retryInMs) return freeze(base);
      const live = event.status === 'live';
      let { downSince } = state;
      if (live) downSince = null;
      else if (state.status === 'live' || downSince === null) downSince = Number.isFinite(event.at) ? event.at : null;
      return freeze({ ...base, status: event.status, retryInMs, downSince, everLive: state.everLive || live });
    }
    case 'filters': {
      const filters = event.filters === undefined ? state.filters : normalizeFilters(event.filters);
      const q = event.q === undefined ? state.q : String(event.q ?? '');
      if (sameServerFilters(filters, state.filters)) return freeze({ ...base, filters, q });
      return freeze({
        ...base,
        filters,
        q,
        items: Object.freeze([]),
        pending: Object.freeze([]),
        pendingCount: 0,
        lastId: null,
        notice: null,
        unseen: 0,
        streamGeneration: state.streamGeneration + 1,
      });
    }
    default:
      return state;
  }
}

/** The notifications the list shows: items passing the filters, newest first. */
export function visibleItems(state) {
  return state.items.filter(filtersMatcher(state.filters, state.q));
}
