import assert from 'node:assert/strict';
import { test } from 'node:test';

import { StreamManager } from '../../public/js/stream.js';

// A fake EventSource that records every instance and lets the test play
// the server and the browser.
function makeFake() {
  const instances = [];
  class FakeEventSource {
    constructor(url, init) {
      this.url = url;
      this.init = init;
      this.readyState = 0;
      this.listeners = {};
      this.closed = false;
      this.onopen = null;
      this.onerror = null;
      instances.push(this);
    }
    addEventListener(type, fn) {
      (this.listeners[type] ??= []).push(fn);
    }
    close() {
      this.readyState = 2;
      this.closed = true;
    }
    // --- test helpers ---
    open() {
      this.readyState = 1;
      this.onopen?.({});
    }
    emit(type, id, data) {
      for (const fn of this.listeners[type] ?? []) fn({ type, lastEventId: id, data: JSON.stringify(data) });
    }
    failTemporarily() {
      this.readyState = 0; // the browser will retry by itself
      this.onerror?.({});
    }
    failForGood() {
      this.readyState = 2; // e.g. a 502: the browser gives up
      this.onerror?.({});
    }
  }
  return { FakeEventSource, instances };
}

function makeTimers() {
  let now = 0;
  let next = 1;
  const pending = new Map();
  return {
    setTimeout: (fn, ms) => {
      const handle = next++;
      pending.set(handle, { fn, at: now + ms });
      return handle;
    },
    clearTimeout: (handle) => pending.delete(handle),
    advance(ms) {
      now += ms;
      for (const [h, t] of [...pending].sort((a, b) => a[1].at - b[1].at)) {
        if (t.at <= now && pending.has(h)) {
          pending.delete(h);
          t.fn();
        }
      }
    },
    get count() {
      return pending.size;
    },
  };
}

function setup({ online = true } = {}) {
  const { FakeEventSource, instances } = makeFake();
  const timers = makeTimers();
  const events = [];
  const statuses = [];
  const state = { online };
  const manager = new StreamManager({
    buildUrl: (lastEventId) => `http://bridge/events?backlog=100${lastEventId ? `&lastEventId=${lastEventId}` : ''}`,
    EventSource: FakeEventSource,
    onEvent: (type, e) => events.push([type, e.lastEventId]),
    onStatus: (status, retryInMs) => statuses.push([status, retryInMs]),
    isOnline: () => state.online,
    random: () => 0.5,
    setTimeout: timers.setTimeout,
    clearTimeout: timers.clearTimeout,
  });
  const openCount = () => instances.filter((i) => !i.closed).length;
  return { manager, instances, timers, events, statuses, state, openCount };
}

test('start opens one fresh stream with the backlog and reports connecting then live', () => {
  const t = setup();
  t.manager.start();
  assert.equal(t.instances.length, 1);
  assert.equal(t.instances[0].url, 'http://bridge/events?backlog=100');
  assert.deepEqual(t.statuses, [['connecting', null]]);
  t.instances[0].open();
  assert.deepEqual(t.statuses.at(-1), ['live', null]);
});

test('events are passed on in order and the last id is remembered', () => {
  const t = setup();
  t.manager.start();
  const es = t.instances[0];
  es.open();
  es.emit('notification', 'a-1', { id: 'a-1' });
  es.emit('notification', 'a-2', { id: 'a-2' });
  assert.deepEqual(t.events, [
    ['notification', 'a-1'],
    ['notification', 'a-2'],
  ]);
  assert.equal(t.manager.lastEventId, 'a-2');
});

test('a temporary failure is left to the browser: no second EventSource', () => {
  const t = setup();
  t.manager.start();
  t.instances[0].open();
  t.instances[0].failTemporarily();
  assert.deepEqual(t.statuses.at(-1), ['reconnecting', null]);
  t.timers.advance(60000);
  assert.equal(t.instances.length, 1);
  t.instances[0].open();
  assert.deepEqual(t.statuses.at(-1), ['live', null]);
});

test('after the browser gives up (non-200), the manager reopens after the last id with backoff', () => {
  const t = setup();
  t.manager.start();
  const first = t.instances[0];
  first.open();
  first.emit('notification', 'a-7', { id: 'a-7' });
  first.failForGood();
  assert.ok(first.closed);
  assert.deepEqual(t.statuses.at(-1), ['reconnecting', 1000]);
  assert.equal(t.openCount(), 0);
  t.timers.advance(999);
  assert.equal(t.instances.length, 1);
  t.timers.advance(1);
  assert.equal(t.instances.length, 2);
  assert.equal(t.instances[1].url, 'http://bridge/events?backlog=100&lastEventId=a-7');
  assert.deepEqual(t.statuses.at(-1), ['reconnecting', null]);
  // Still failing: 2 s, then 4 s…
  t.instances[1].failForGood();
  assert.deepEqual(t.statuses.at(-1), ['reconnecting', 2000]);
  t.timers.advance(2000);
  t.instances[2].failForGood();
  assert.deepEqual(t.statuses.at(-1), ['reconnecting', 4000]);
  t.timers.advance(4000);
  assert.equal(t.openCount(), 1);
  // Success resets the backoff.
  t.instances[3].open();
  t.instances[3].failForGood();
  assert.deepEqual(t.statuses.at(-1), ['reconnecting', 1000]);
});

test('the backoff is capped at 30 s', () => {
  const t = setup();
  t.manager.start();
  const delays = [];
  for (let i = 0; i < 8; i += 1) {
    t.instances.at(-1).failForGood();
    delays.push(t.statuses.at(-1)[1]);
    t.timers.advance(delays.at(-1));
  }
  assert.deepEqual(delays, [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  assert.equal(t.openCount(), 1);
});

test('exactly one EventSource is ever open', () => {
  const t = setup();
  t.manager.start();
  t.manager.restart();
  t.manager.online();
  t.instances.at(-1).failForGood();
  t.manager.online(); // retry at once, cancelling the timer
  assert.equal(t.timers.count, 0);
  t.timers.advance(100000);
  assert.equal(t.openCount(), 1);
  t.manager.stop();
  assert.equal(t.openCount(), 0);
  t.timers.advance(100000);
  assert.equal(t.openCount(), 0);
});

test('late events from a closed EventSource are ignored', () => {
  const t = setup();
  t.manager.start();
  const old = t.instances[0];
  old.open();
  old.emit('notification', 'a-1', {});
  t.manager.restart();
  old.emit('notification', 'a-2', {});
  assert.deepEqual(t.events, [['notification', 'a-1']]);
});

test('restart forgets the position (fresh stream with backlog)', () => {
  const t = setup();
  t.manager.start();
  t.instances[0].open();
  t.instances[0].emit('notification', 'a-3', {});
  t.manager.restart();
  assert.equal(t.instances[1].url, 'http://bridge/events?backlog=100');
  assert.deepEqual(t.statuses.at(-1), ['connecting', null]);
});

test('a reset with an empty id resumes from the beginning next time', () => {
  const t = setup();
  t.manager.start();
  const es = t.instances[0];
  es.open();
  es.emit('notification', 'a-3', {});
  es.emit('reset', '', { reason: 'unknown-last-event-id' });
  assert.equal(t.manager.lastEventId, null);
  es.emit('reset', 'a-9', { reason: 'upstream-reset' });
  assert.equal(t.manager.lastEventId, 'a-9');
  assert.deepEqual(t.events.map((e) => e[0]), ['notification', 'reset', 'reset']);
});

test('offline is shown, and online retries at once after the last id', () => {
  const t = setup();
  t.manager.start();
  t.instances[0].open();
  t.instances[0].emit('notification', 'a-4', {});
  t.state.online = false;
  t.instances[0].failForGood();
  assert.equal(t.statuses.at(-1)[0], 'offline');
  t.manager.offline();
  assert.equal(t.statuses.at(-1)[0], 'offline');
  t.state.online = true;
  t.manager.online();
  assert.equal(t.instances.length, 2);
  assert.equal(t.instances[1].url, 'http://bridge/events?backlog=100&lastEventId=a-4');
  assert.equal(t.timers.count, 0);
});

test('online while live does nothing', () => {
  const t = setup();
  t.manager.start();
  t.instances[0].open();
  t.manager.online();
  t.manager.offline();
  assert.equal(t.instances.length, 1);
  assert.equal(t.statuses.at(-1)[0], 'live');
});

test('stop then resume reopens after the last id', () => {
  const t = setup();
  t.manager.start();
  t.instances[0].open();
  t.instances[0].emit('notification', 'a-5', {});
  t.manager.stop();
  t.manager.online();
  assert.equal(t.instances.length, 1);
  t.manager.resume();
  assert.equal(t.instances[1].url, 'http://bridge/events?backlog=100&lastEventId=a-5');
  t.manager.resume(); // already running
  assert.equal(t.instances.length, 2);
});
