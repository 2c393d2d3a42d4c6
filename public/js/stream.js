// The connection manager: keeps exactly one EventSource open on the bridge's
// stream and reopens it itself when the browser gives up.
//
// A browser's EventSource reconnects on its own after a network error or
// the end of the body (readyState CONNECTING, sending Last-Event-ID), but
// stops for good (readyState CLOSED) after any non-200 answer, e.g. a
// proxy's 502 while the bridge restarts. Then this manager closes it, waits
// (exponential backoff with jitter, see backoff.js) and opens a new one whose
// URL carries `lastEventId=<last id seen>`, so the bridge resumes right after
// it: nothing lost, nothing twice (the state also drops duplicate ids).
//
// Not thread-related, but single-owner: one manager per page, driven from
// the page's event loop. Everything it touches outside itself is injected
// (EventSource class, timers, random, clock) so tests drive it by hand.

import { DEFAULT_BACKOFF, backoffDelay } from './backoff.js';

const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 2;

export class StreamManager {
  /**
   * @param {object} options
   * @param {(lastEventId: string|null) => string} options.buildUrl  URL to open;
   *     lastEventId is null for a fresh start (then ask for the backlog).
   * @param {Function} options.EventSource  the EventSource class (window.EventSource).
   * @param {(type: string, event: MessageEvent) => void} options.onEvent  called for
   *     every `notification` and `reset` event, in stream order.
   * @param {(status: string, retryInMs: number|null) => void} options.onStatus
   *     'connecting' | 'live' | 'reconnecting' | 'offline'.
   * @param {() => boolean} [options.isOnline]  navigator.onLine.
   * @param {object} [options.backoff]  { baseMs, capMs, jitter }.
   * @param {() => number} [options.random]  Math.random.
   * @param {Function} [options.setTimeout]  and clearTimeout, now: injectable.
   */
  constructor({
    buildUrl,
    EventSource,
    onEvent,
    onStatus,
    isOnline = () => true,
    backoff = DEFAULT_BACKOFF,
    random = Math.random,
    setTimeout: setTimer = (fn, ms) => globalThis.setTimeout(fn, ms),
    clearTimeout: clearTimer = (id) => globalThis.clearTimeout(id),
    withCredentials = false,
  }) {
    this.buildUrl = buildUrl;
    this.EventSourceClass = EventSource;
    this.onEvent = onEvent;
    this.onStatus = onStatus;
    this.isOnline = isOnline;
    this.backoff = backoff;
    this.random = random;
    this.setTimer = setTimer;
    this.clearTimer = clearTimer;
    this.withCredentials = withCredentials;
    this.source = null; // the one EventSource, or null
    this.timer = null; // pending reopen, or null
    this.attempt = 0; // consecutive failed attempts since the last open
    this.lastEventId = null; // last SSE id seen (string), null = fresh start
    this.everOpened = false;
    this.stopped = true;
    this.status = null;
  }

  /**
   * Opens the stream fresh (with backlog), forgetting any position; or, given
   * `lastEventId` (a string), resuming right after it (a tab taking over the
   * shared stream, shared.js).
   */
  start(lastEventId = null) {
    this.stopped = false;
    this.lastEventId = typeof lastEventId === 'string' && lastEventId !== '' ? lastEventId : null;
    this.attempt = 0;
    this.everOpened = false;
    this.open();
  }

  /** Same as start(): used when server-side filters change. */
  restart() {
    this.start();
  }

  /** Closes the stream and cancels any pending reopen. */
  stop() {
    this.stopped = true;
    this.cancelTimer();
    this.closeSource();
  }

  /**
   * Reopens after stop() (e.g. the page came back from the back/forward
   * cache), resuming after the last id seen; a no-op when running.
   */
  resume() {
    if (!this.stopped) return;
    this.stopped = false;
    this.attempt = 0;
    this.open();
  }

  /** The browser says the network is back: retry at once unless live. */
  online() {
    if (this.stopped) return;
    if (this.source && this.source.readyState === OPEN) return;
    this.attempt = 0;
    this.open();
  }

  /** The browser says the network is gone: show it (retries go on). */
  offline() {
    if (this.stopped) return;
    if (!(this.source && this.source.readyState === OPEN)) this.setStatus('offline', null);
  }

  // --- internals -----------------------------------------------------------

  setStatus(status, retryInMs) {
    this.status = status;
    this.onStatus(status, retryInMs);
  }

  cancelTimer() {
    if (this.timer !== null) {
      this.clearTimer(this.timer);
      this.timer = null;
    }
  }

  closeSource() {
    const old = this.source;
    this.source = null;
    if (old) {
      old.onopen = null;
      old.onerror = null;
      old.close();
    }
  }

  open() {
    this.cancelTimer();
    this.closeSource(); // never two at once
    if (this.stopped) return;
    const url = this.buildUrl(this.lastEventId);
    const source = new this.EventSourceClass(url, { withCredentials: this.withCredentials });
    this.source = source;
    this.setStatus(this.everOpened || this.attempt > 0 ? 'reconnecting' : 'connecting', null);
    const handler = (type) => (event) => {
      if (this.source !== source) return; // a late event from a closed stream
      // The browser sets lastEventId from the `id:` field; a reset with an
      // empty id means "resume from the beginning".
      if (typeof event.lastEventId === 'string') {
        this.lastEventId = event.lastEventId === '' ? null : event.lastEventId;
      }
      this.onEvent(type, event);
    };
    source.addEventListener('notification', handler('notification'));
    source.addEventListener('reset', handler('reset'));
    source.onopen = () => {
      if (this.source !== source) return;
      this.everOpened = true;
      this.attempt = 0;
      this.setStatus('live', null);
    };
    source.onerror = () => {
      if (this.source !== source) return;
      if (source.readyState === CLOSED) {
        // The browser gave up (non-200, wrong type, CORS): our turn.
        this.closeSource();
        this.scheduleReopen();
      } else if (source.readyState === CONNECTING) {
        // The browser reconnects by itself after `retry`, with Last-Event-ID.
        this.setStatus(this.isOnline() ? 'reconnecting' : 'offline', null);
      }
    };
  }

  scheduleReopen() {
    const delay = backoffDelay(this.attempt, this.backoff, this.random);
    this.attempt += 1;
    this.setStatus(this.isOnline() ? 'reconnecting' : 'offline', delay);
    this.timer = this.setTimer(() => {
      this.timer = null;
      this.open();
    }, delay);
  }
}
