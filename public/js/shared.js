// One stream for every tab of the page in a browser.
//
// Over HTTP/1.1 a browser opens at most 6 connections per host: a seventh
// tab holding its own EventSource would wait forever. So the tabs showing
// the same stream elect one leader with the Web Locks API (the lock is
// released by the browser when its tab closes, crashes or is discarded, and
// handed to the next tab waiting for it); the leader alone holds the
// EventSource (a StreamManager: backoff, resume) and relays each event over
// a BroadcastChannel to the other tabs, the followers. Nothing is shared
// but what the channel carries: every tab keeps its own state.
//
// Exactly once, in order: every tab keeps the last stream id it saw and the
// recent events (since the last `reset`, at most `bufferSize`). A tab that
// joins asks for them ('hello') and applies the leader's 'snapshot' before
// any live events (which it ignores until then: the snapshot covers them,
// since the leader's messages arrive in the order it sent them; the events
// of one task travel as one 'events' message). A tab that
// takes over resumes the stream right after the last id it saw; what the
// followers already have is dropped by the page's dedupe (ids only grow). A
// leader that never got a snapshot first asks the others (needSync) for a
// short while, so that a tab just opened does not restart everyone fresh.
//
// The stream is opened without the page's server-side filters: tabs with
// different filters share it and each applies its own (filters.js mirrors
// the bridge). Where BroadcastChannel or navigator.locks is missing (or
// the page is not a secure context), main.js uses a StreamManager per tab.
//
// Everything outside is injected (BroadcastChannel, locks, the stream
// factory, timers), so node tests drive several "tabs" with fakes.
// Single-owner: one per page, driven from the page's event loop.

/** Bumped when the messages change, so that tabs of two versions of the page never mix. */
export const PROTOCOL = 1;

/** The lock and channel name for a stream URL. */
export function sharedName(streamUrl) {
  return `nasqueron-notifications/v${PROTOCOL}/${streamUrl}`;
}

/** Whether this browser can share one stream between tabs (both APIs present). */
export function canShare({ BroadcastChannel, locks }) {
  return typeof BroadcastChannel === 'function' && locks !== null && typeof locks === 'object' && typeof locks.request === 'function';
}

export class SharedStream {
  /**
   * @param {object} options
   * @param {string} options.name  lock and channel name (sharedName(stream URL)).
   * @param {Function} options.BroadcastChannel  the class.
   * @param {object} options.locks  navigator.locks (request(name, options, callback)).
   * @param {Function} options.createStream  ({ onEvent, onStatus }) => a
   *     StreamManager (start(lastEventId), stop(), online(), offline(), lastEventId).
   * @param {(type: string, event: {data: string, lastEventId: string}) => void} options.onEvent
   *     each `notification` / `reset`, in stream order, from whichever tab leads.
   * @param {(status: string, retryInMs: number|null, info: {fresh: boolean}) => void} options.onStatus
   *     the leader's connection state; `fresh`: what follows is a backlog.
   * @param {Function} options.setTimeout  and clearTimeout.
   * @param {string} options.tabId  unique among the tabs (random).
   * @param {number} [options.bufferSize]  recent events kept for joining tabs (500).
   * @param {number} [options.syncWaitMs]  how long a new leader without events waits for a snapshot (250).
   * @param {number} [options.helloRetryMs]  how often a tab without a snapshot asks again (1000).
   */
  constructor({
    name,
    BroadcastChannel,
    locks,
    createStream,
    onEvent,
    onStatus,
    setTimeout: setTimer,
    clearTimeout: clearTimer,
    tabId,
    bufferSize = 500,
    syncWaitMs = 250,
    helloRetryMs = 1000,
  }) {
    Object.assign(this, { name, BroadcastChannelClass: BroadcastChannel, locks, createStream, onEvent, onStatus });
    Object.assign(this, { setTimer, clearTimer, tabId, bufferSize, syncWaitMs, helloRetryMs });
    this.role = null; // 'leader' | 'follower' | null (stopped)
    this.running = false;
    this.synced = false; // has the recent events (own stream, or a snapshot)
    this.lastEventId = null; // last stream id seen, null = none
    this.buffer = []; // recent events since the last reset: { type, data, lastEventId }
    this.status = null; // the leader's last { status, retryInMs, fresh }
    this.channel = null;
    this.stream = null; // the StreamManager, while leading
    this.release = null; // ends the lock callback (gives the lead away)
    this.abort = null; // abandons a pending lock request
    this.helloTimer = null;
    this.syncTimer = null;
    this.outbox = []; // events to relay, sent together once the current task is done
    this.outboxTimer = null;
  }

  /** Joins the other tabs: follows, and queues for the lead. */
  start() {
    if (this.running) return;
    this.running = true;
    this.role = 'follower';
    this.channel = new this.BroadcastChannelClass(this.name);
    this.channel.onmessage = (e) => this.receive(e.data);
    if (!this.synced) this.hello();
    const abort = new AbortController();
    this.abort = abort;
    this.locks
      .request(this.name, { signal: abort.signal }, () => {
        if (!this.running || this.abort !== abort) return undefined; // stopped meanwhile: give it back
        return new Promise((release) => {
          this.release = release;
          this.lead();
        });
      })
      .catch(() => {}); // AbortError: stop() abandoned the request
  }

  /** Server-side filters changed: the page is emptied; replay what is known (nothing is reopened). */
  restart() {
    for (const e of this.recent()) this.onEvent(e.type, { data: e.data, lastEventId: e.lastEventId });
  }

  /** Leaves (pagehide): closes the stream if leading, gives the lead away, closes the channel. */
  stop() {
    if (!this.running) return;
    this.running = false;
    this.role = null;
    this.cancel('helloTimer');
    this.cancel('syncTimer');
    this.flush(); // what we received, the others get
    this.stream?.stop();
    this.stream = null;
    this.abort?.abort();
    this.abort = null;
    const release = this.release;
    this.release = null;
    release?.();
    this.channel.onmessage = null;
    this.channel.close();
    this.channel = null;
    // What arrived meanwhile comes from the leader's snapshot, or from our
    // own stream resumed after lastEventId if we lead.
    this.synced = false;
  }

  /** Back from the back/forward cache: join again, keeping the position. */
  resume() {
    this.start();
  }

  /** The browser says the network is back / gone: the leader's stream acts on it. */
  online() {
    this.stream?.online();
  }

  offline() {
    this.stream?.offline();
  }

  // --- internals -----------------------------------------------------------

  cancel(timer) {
    if (this[timer] !== null) this.clearTimer(this[timer]);
    this[timer] = null;
  }

  post(message) {
    this.flush(); // keeps the order: relayed events before whatever follows them
    this.channel?.postMessage(message);
  }

  // The browser hands a burst to the EventSource in one task; a message per
  // event cost ~70 us of structured cloning each (the page's largest cost
  // under a flood). They leave together, once that task is over.
  relay(type, data, id) {
    this.outbox.push({ type, data, id });
    if (this.outboxTimer === null) {
      this.outboxTimer = this.setTimer(() => {
        this.outboxTimer = null;
        this.flush();
      }, 0);
    }
  }

  flush() {
    this.cancel('outboxTimer');
    if (this.outbox.length === 0) return;
    const list = this.outbox;
    this.outbox = [];
    this.channel?.postMessage({ t: 'events', list });
  }

  hello() {
    this.cancel('helloTimer');
    this.post({ t: 'hello', from: this.tabId });
    this.helloTimer = this.setTimer(() => {
      this.helloTimer = null;
      if (this.running && !this.synced) this.hello();
    }, this.helloRetryMs);
  }

  snapshotFor(to) {
    return { t: 'snapshot', to, events: this.recent(), lastEventId: this.lastEventId, status: this.status };
  }

  lead() {
    this.role = 'leader';
    this.cancel('helloTimer');
    this.post({ t: 'leader', from: this.tabId, needSync: !this.synced });
    if (this.synced) {
      this.openStream();
      return;
    }
    this.syncTimer = this.setTimer(() => {
      this.syncTimer = null;
      this.synced = true; // nobody had anything: start from our own position
      this.openStream();
    }, this.syncWaitMs);
  }

  openStream() {
    if (!this.running || this.role !== 'leader' || this.stream) return;
    const stream = this.createStream({
      onEvent: (type, event) => {
        if (this.stream !== stream) return;
        this.record(type, event.data, event.lastEventId);
        this.relay(type, event.data, event.lastEventId);
        this.onEvent(type, { data: event.data, lastEventId: event.lastEventId });
      },
      onStatus: (status, retryInMs) => {
        if (this.stream !== stream) return;
        this.status = { status, retryInMs, fresh: stream.lastEventId === null };
        this.post({ t: 'status', ...this.status });
        this.onStatus(status, retryInMs, { fresh: this.status.fresh });
      },
    });
    this.stream = stream;
    stream.start(this.lastEventId);
  }

  // Keeps the position and the recent events, as StreamManager reads ids:
  // an empty id (a reset's) means "from the beginning".
  record(type, data, id) {
    if (typeof id === 'string') this.lastEventId = id === '' ? null : id;
    if (type === 'reset') {
      this.buffer = [];
      return;
    }
    this.buffer.push({ type, data, lastEventId: id });
    // Trimmed in batches: a splice per event once full moved 500 entries
    // each time, in the task that dispatches a whole burst.
    if (this.buffer.length >= 2 * this.bufferSize) this.buffer = this.buffer.slice(-this.bufferSize);
  }

  /** The recent events, at most bufferSize, oldest first. */
  recent() {
    return this.buffer.length > this.bufferSize ? this.buffer.slice(-this.bufferSize) : this.buffer;
  }

  applySnapshot(m) {
    this.synced = true;
    this.cancel('helloTimer');
    this.buffer = Array.isArray(m.events) ? m.events.slice(-this.bufferSize) : [];
    this.lastEventId = typeof m.lastEventId === 'string' ? m.lastEventId : null;
    // What the snapshot holds is a backlog: no desktop notification for it.
    if (m.status) {
      this.status = m.status;
      this.onStatus(m.status.status, m.status.retryInMs, { fresh: true });
    }
    for (const e of this.buffer) this.onEvent(e.type, { data: e.data, lastEventId: e.lastEventId });
    if (this.role === 'leader' && this.syncTimer !== null) {
      this.cancel('syncTimer');
      this.openStream();
    }
  }

  receive(m) {
    if (!this.running || m === null || typeof m !== 'object') return;
    switch (m.t) {
      case 'hello':
        if (this.role === 'leader' && this.synced) this.post(this.snapshotFor(m.from));
        break;
      case 'leader':
        if (m.from === this.tabId) break;
        if (!this.synced) this.hello();
        else if (m.needSync) this.post(this.snapshotFor(m.from));
        break;
      case 'snapshot':
        if (m.to === this.tabId && !this.synced) this.applySnapshot(m);
        break;
      case 'events':
        // Before our snapshot, the snapshot covers them; while we lead, our
        // own stream does (a late message from the previous leader).
        if (!this.synced || this.role !== 'follower' || !Array.isArray(m.list)) break;
        for (const e of m.list) {
          this.record(e.type, e.data, e.id);
          this.onEvent(e.type, { data: e.data, lastEventId: e.id });
        }
        break;
      case 'status':
        if (!this.synced || this.role !== 'follower') break;
        this.status = { status: m.status, retryInMs: m.retryInMs, fresh: Boolean(m.fresh) };
        this.onStatus(m.status, m.retryInMs, { fresh: Boolean(m.fresh) });
        break;
      default:
        break;
    }
  }
}
