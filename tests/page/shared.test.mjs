import assert from 'node:assert/strict';
import { test } from 'node:test';

import { SharedStream, canShare, sharedName } from '../../public/js/shared.js';

// --- fakes: a browser with several tabs -------------------------------------

// BroadcastChannel: a message reaches every other open channel of the same
// name, structured-cloned, when the test pumps.
function makeChannels() {
  const open = new Set();
  const queue = [];
  class FakeChannel {
    constructor(name) {
      this.name = name;
      this.onmessage = null;
      open.add(this);
    }
    postMessage(data) {
      const copy = structuredClone(data);
      for (const c of open) if (c !== this && c.name === this.name) queue.push([c, copy]);
    }
    close() {
      open.delete(this);
    }
  }
  return {
    FakeChannel,
    open,
    pump() {
      let n = 0;
      while (queue.length) {
        const [c, data] = queue.shift();
        if (open.has(c)) c.onmessage?.({ data });
        n += 1;
      }
      return n;
    },
  };
}

// navigator.locks: exclusive, FIFO, released when the callback's promise
// settles; a pending request can be abandoned with its signal.
function makeLocks() {
  const held = new Map(); // name -> { release }
  const waiting = new Map(); // name -> [grant]
  function next(name) {
    const q = waiting.get(name) ?? [];
    if (held.has(name) || q.length === 0) return;
    q.shift()();
  }
  return {
    held,
    request(name, options, callback) {
      return new Promise((resolve, reject) => {
        const grant = () => {
          const entry = {};
          held.set(name, entry);
          const done = () => {
            if (held.get(name) === entry) held.delete(name);
            next(name);
          };
          entry.crash = done;
          Promise.resolve(callback({ name })).then((v) => {
            done();
            resolve(v);
          });
        };
        const q = waiting.get(name) ?? [];
        waiting.set(name, q);
        options.signal?.addEventListener('abort', () => {
          const i = q.indexOf(grant);
          if (i >= 0) {
            q.splice(i, 1);
            reject(new DOMException('aborted', 'AbortError'));
          }
        });
        q.push(grant);
        next(name);
      });
    },
  };
}

function makeTimers() {
  let now = 0;
  let id = 1;
  const pending = new Map();
  return {
    setTimeout: (fn, ms) => {
      pending.set(id, { fn, at: now + ms });
      return id++;
    },
    clearTimeout: (h) => pending.delete(h),
    advance(ms) {
      const end = now + ms;
      for (;;) {
        const due = [...pending].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        pending.delete(due[0]);
        now = due[1].at;
        due[1].fn();
      }
      now = end;
    },
  };
}

// The bridge's stream as StreamManagers see it: the test emits events on
// whichever is open.
function makeStreams() {
  const all = [];
  return {
    all,
    create({ onEvent, onStatus }) {
      const s = {
        lastEventId: null,
        startedWith: undefined,
        stopped: false,
        start(lastEventId = null) {
          s.startedWith = lastEventId;
          s.lastEventId = lastEventId;
          onStatus('connecting', null);
        },
        stop() {
          s.stopped = true;
        },
        online() {},
        offline() {},
        open() {
          onStatus('live', null);
        },
        emit(type, id, data = { id }) {
          s.lastEventId = id === '' ? null : id;
          onEvent(type, { data: JSON.stringify(data), lastEventId: id });
        },
      };
      all.push(s);
      return s;
    },
    get live() {
      const open = all.filter((s) => s.startedWith !== undefined && !s.stopped);
      assert.ok(open.length <= 1, `${open.length} streams open at once`);
      return open[0];
    },
  };
}

function browser() {
  const channels = makeChannels();
  const locks = makeLocks();
  const timers = makeTimers();
  const streams = makeStreams();
  const name = sharedName('https://api.example/notifications/events');
  let tabs = 0;
  const settle = async () => {
    for (let i = 0; i < 20; i += 1) {
      await new Promise((r) => setImmediate(r));
      timers.advance(0); // relayed events leave once the current task is over
      channels.pump();
    }
  };
  function tab() {
    tabs += 1;
    const received = [];
    const statuses = [];
    const shared = new SharedStream({
      name,
      BroadcastChannel: channels.FakeChannel,
      locks,
      createStream: (cb) => streams.create(cb),
      onEvent: (type, e) => received.push(type === 'reset' ? 'reset' : JSON.parse(e.data).id),
      onStatus: (status, retryInMs, info) => statuses.push([status, info.fresh]),
      setTimeout: timers.setTimeout,
      clearTimeout: timers.clearTimeout,
      tabId: `tab-${tabs}`,
      bufferSize: 5,
    });
    return { shared, received, statuses };
  }
  return { channels, locks, timers, streams, tab, settle, name };
}

// --- tests ---------------------------------------------------------------------

test('canShare needs both BroadcastChannel and navigator.locks', () => {
  class BC {}
  assert.equal(canShare({ BroadcastChannel: BC, locks: { request() {} } }), true);
  assert.equal(canShare({ BroadcastChannel: undefined, locks: { request() {} } }), false);
  assert.equal(canShare({ BroadcastChannel: BC, locks: undefined }), false);
  assert.equal(canShare({ BroadcastChannel: BC, locks: null }), false);
  assert.match(sharedName('https://a.example/events'), /^nasqueron-notifications\/v\d+\/https:\/\/a\.example\/events$/);
});

test('a tab alone leads after a short wait and opens the stream fresh', async () => {
  const b = browser();
  const a = b.tab();
  a.shared.start();
  await b.settle();
  assert.equal(a.shared.role, 'leader');
  assert.equal(b.streams.all.length, 0, 'waits for a snapshot first');
  b.timers.advance(250);
  assert.equal(b.streams.live.startedWith, null);
  b.streams.live.open();
  b.streams.live.emit('notification', 'e1');
  assert.deepEqual(a.received, ['e1']);
  assert.deepEqual(a.statuses, [['connecting', true], ['live', true]]);
});

test('eight tabs: one stream; every tab gets every event exactly once, in order, also across two leader changes', async () => {
  const b = browser();
  const tabs = Array.from({ length: 8 }, () => b.tab());
  tabs[0].shared.start();
  await b.settle();
  b.timers.advance(250);
  b.streams.live.open();
  b.streams.live.emit('notification', 'e1');
  b.streams.live.emit('notification', 'e2');
  for (const t of tabs.slice(1)) t.shared.start();
  await b.settle();
  b.streams.live.emit('notification', 'e3');
  await b.settle();
  for (const t of tabs) assert.deepEqual(t.received, ['e1', 'e2', 'e3']);
  assert.equal(b.streams.all.length, 1);
  // Followers took the snapshot as a backlog (fresh: no desktop notification).
  assert.deepEqual(tabs[3].statuses, [['live', true]]);

  // The leader closes: the next tab in line resumes after e3.
  tabs[0].shared.stop();
  await b.settle();
  assert.equal(tabs[1].shared.role, 'leader');
  const second = b.streams.live;
  assert.equal(second.startedWith, 'e3');
  second.open();
  second.emit('notification', 'e3'); // a bridge may re-send around the cursor: the page dedupes
  second.emit('notification', 'e4');
  await b.settle();
  // The leader's tab crashes (lock released by the browser, no goodbye).
  b.locks.held.get(b.name).crash();
  b.channels.open.delete([...b.channels.open].find((c) => c === tabs[1].shared.channel));
  tabs[1].shared.running = false;
  await b.settle();
  assert.equal(tabs[2].shared.role, 'leader');
  assert.equal(b.streams.all.at(-1).startedWith, 'e4');
  b.streams.all.at(-1).emit('notification', 'e5');
  await b.settle();
  for (const t of tabs.slice(2)) {
    const unique = t.received.filter((id, i) => t.received.indexOf(id) === i);
    assert.deepEqual(unique, ['e1', 'e2', 'e3', 'e4', 'e5']);
  }
});

test('a tab that takes over without a snapshot asks the others and resumes from their position', async () => {
  const b = browser();
  const a = b.tab();
  const c = b.tab();
  a.shared.start();
  await b.settle();
  b.timers.advance(250);
  b.streams.live.emit('notification', 'e1');
  c.shared.start();
  await b.settle();
  assert.deepEqual(c.received, ['e1']);
  // A third tab opens and the leader leaves before the newcomer got anything:
  // c is first in line, and it has the position.
  const d = b.tab();
  d.shared.start(); // queued after c
  a.shared.stop();
  await b.settle();
  assert.equal(c.shared.role, 'leader');
  assert.equal(b.streams.live.startedWith, 'e1');
  assert.deepEqual(d.received, ['e1'], 'the newcomer got its snapshot from the new leader');

});

test('a leader without events asks (needSync): the followers answer with their snapshot', async () => {
  const b = browser();
  const f = b.tab();
  // f is synced as a follower would be (it saw e9 from a leader now gone).
  f.shared.synced = true;
  f.shared.lastEventId = 'e9';
  f.shared.buffer = [{ type: 'notification', data: JSON.stringify({ id: 'e9' }), lastEventId: 'e9' }];
  // f has not joined the lock queue: start() would; emulate a follower that only listens.
  f.shared.running = true;
  f.shared.role = 'follower';
  f.shared.channel = new b.channels.FakeChannel(b.name);
  f.shared.channel.onmessage = (e) => f.shared.receive(e.data);
  const n = b.tab();
  n.shared.start();
  await b.settle();
  assert.equal(n.shared.role, 'leader');
  assert.equal(b.streams.live.startedWith, 'e9', 'resumed from the follower position, before syncWait');
  assert.deepEqual(n.received, ['e9']);
});

test("a live event that crosses a joining tab's hello is not applied twice nor before the snapshot", async () => {
  const b = browser();
  const a = b.tab();
  a.shared.start();
  await b.settle();
  b.timers.advance(250);
  b.streams.live.emit('notification', 'e1');
  const c = b.tab();
  c.shared.start(); // its hello is on the way...
  b.streams.live.emit('notification', 'e2'); // ...and so is e2, ahead of the snapshot holding it
  await b.settle();
  b.streams.live.emit('notification', 'e3');
  await b.settle();
  assert.deepEqual(c.received, ['e1', 'e2', 'e3']);
});

test('a reset empties the recent events: a tab joining later gets only what followed', async () => {
  const b = browser();
  const a = b.tab();
  a.shared.start();
  await b.settle();
  b.timers.advance(250);
  const s = b.streams.live;
  s.emit('notification', 'e1');
  s.emit('reset', '');
  s.emit('notification', 'f1');
  const c = b.tab();
  c.shared.start();
  await b.settle();
  assert.deepEqual(a.received, ['e1', 'reset', 'f1']);
  assert.deepEqual(c.received, ['f1']);
});

test('the recent events are bounded (bufferSize) and restart() replays them', async () => {
  const b = browser();
  const a = b.tab();
  a.shared.start();
  await b.settle();
  b.timers.advance(250);
  for (let i = 1; i <= 8; i += 1) b.streams.live.emit('notification', `e${i}`);
  assert.ok(a.shared.buffer.length < 10, 'trimmed');
  assert.deepEqual(a.shared.recent().map((e) => e.lastEventId), ['e4', 'e5', 'e6', 'e7', 'e8']);
  a.received.length = 0;
  a.shared.restart();
  assert.deepEqual(a.received, ['e4', 'e5', 'e6', 'e7', 'e8']);
  assert.equal(b.streams.all.length, 1, 'nothing reopened');
});

test('a follower that leaves abandons its place in line; one that comes back asks for a snapshot again', async () => {
  const b = browser();
  const a = b.tab();
  const c = b.tab();
  const d = b.tab();
  a.shared.start();
  await b.settle();
  b.timers.advance(250);
  b.streams.live.emit('notification', 'e1');
  c.shared.start();
  d.shared.start();
  await b.settle();
  c.shared.stop();
  a.shared.stop();
  await b.settle();
  assert.equal(c.shared.role, null);
  assert.equal(d.shared.role, 'leader');
  b.streams.live.emit('notification', 'e2');
  c.shared.resume();
  await b.settle();
  assert.deepEqual(c.received, ['e1', 'e1', 'e2'], 'the snapshot again (the page drops what it has)');
  assert.equal(c.shared.role, 'follower');
});

test('a follower keeps asking until a leader answers', async () => {
  const b = browser();
  const f = b.tab();
  // Hold the lock elsewhere (a leader that never answers, e.g. busy loading).
  let release;
  b.locks.request(b.name, {}, () => new Promise((r) => (release = r)));
  f.shared.start();
  await b.settle();
  const listener = new b.channels.FakeChannel(b.name);
  const seen = [];
  listener.onmessage = (e) => seen.push(e.data.t);
  b.timers.advance(1000);
  b.timers.advance(1000);
  await b.settle();
  assert.deepEqual(seen, ['hello', 'hello']);
  release();
  await b.settle();
  assert.equal(f.shared.role, 'leader');
});

test('the events of one task travel in one message, before the status that follows them', async () => {
  const b = browser();
  const a = b.tab();
  a.shared.start();
  await b.settle();
  b.timers.advance(250);
  const c = b.tab();
  c.shared.start();
  await b.settle();
  const seen = [];
  const spy = new b.channels.FakeChannel(b.name);
  spy.onmessage = (e) => seen.push(e.data.t === 'events' ? e.data.list.map((x) => x.id).join(',') : e.data.t);
  for (let i = 1; i <= 50; i += 1) b.streams.live.emit('notification', `e${i}`);
  b.streams.live.open(); // a status change right after: flushed behind them
  await b.settle();
  assert.deepEqual(seen, [Array.from({ length: 50 }, (_, i) => `e${i + 1}`).join(','), 'status']);
  assert.equal(c.received.length, 50);
});

test('status reaches the followers; online/offline reach only the leader stream', async () => {
  const b = browser();
  const a = b.tab();
  const c = b.tab();
  a.shared.start();
  await b.settle();
  b.timers.advance(250);
  c.shared.start();
  await b.settle();
  const s = b.streams.live;
  s.lastEventId = 'e1';
  let onl = 0;
  s.online = () => (onl += 1);
  a.shared.online();
  c.shared.online();
  assert.equal(onl, 1);
  // a status change after the join
  s.open();
  await b.settle();
  assert.deepEqual(c.statuses.at(-1), ['live', false]);
});
