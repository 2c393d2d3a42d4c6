import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ANNOUNCE_DELAY_MS, BACKLOG_QUIET_MS, FLOOD_RENDER_INTERVAL_MS, FLOOD_ROWS, RENDER_DELAY_MS, createController } from '../../public/js/controller.js';
import { createState } from '../../public/js/state.js';

// Hand-driven timers and clock: advance(ms) moves time and fires what is due.
function fakeTime(start = 1_000_000) {
  let now = start;
  let next = 1;
  const pending = new Map();
  return {
    now: () => now,
    setTimeout: (fn, ms) => {
      pending.set(next, { fn, at: now + ms });
      return next++;
    },
    clearTimeout: (h) => pending.delete(h),
    // Fires the one earliest timer (whatever its time).
    step() {
      const due = [...pending].sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) return;
      pending.delete(due[0]);
      now = Math.max(now, due[1].at);
      due[1].fn();
    },
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

function fakeView() {
  const calls = [];
  const view = {
    calls,
    handlers: null,
    bind(h) {
      view.handlers = h;
    },
    render: (state, now) => calls.push(['render', state.items.length, now]),
    refreshTimes: (now) => calls.push(['refreshTimes', now]),
    setTitle: (unseen) => calls.push(['setTitle', unseen]),
    announce: (message) => calls.push(['announce', message]),
    setDesktop: (mode) => calls.push(['setDesktop', mode]),
    count: (name) => calls.filter((c) => c[0] === name).length,
  };
  return view;
}

function fakeDesktop() {
  const pushed = [];
  return { pushed, mode: () => 'off', toggle: async () => 'on', push: (n) => pushed.push(n.id) };
}

function setup({ search = '', hidden = false, state = {} } = {}) {
  const time = fakeTime();
  const view = fakeView();
  const desktop = fakeDesktop();
  const urls = [];
  const location = { pathname: '/', search, hash: '' };
  let isHidden = hidden;
  const app = createController({
    view,
    desktop,
    state: createState({ hidden, ...state }),
    now: time.now,
    setTimeout: time.setTimeout,
    clearTimeout: time.clearTimeout,
    isHidden: () => isHidden,
    location,
    replaceUrl: (url) => {
      urls.push(url);
      const u = new URL(url, 'http://x');
      location.search = u.search;
    },
  });
  const restarts = [];
  app.attachStream({ restart: () => restarts.push(app.state.filters) });
  return { app, view, desktop, time, urls, restarts, setHidden: (h) => (isHidden = h) };
}

let seq = 0;
const event = (over = {}) => {
  seq += 1;
  const id = `1795869554-${String(seq).padStart(10, '0')}`;
  return { data: JSON.stringify({ id, time: '2026-11-28T12:00:00Z', service: 'GitHub', project: 'Nasqueron', group: 'ops', type: 'push', text: `n ${seq}`, link: '', ...over }), lastEventId: id };
};

test('start renders once with the desktop mode; the view is bound to the handlers', () => {
  const { app, view } = setup();
  app.start();
  assert.deepEqual(view.calls, [['setDesktop', 'off'], ['render', 0, 1_000_000]]);
  assert.equal(typeof view.handlers.onFilters, 'function');
});

test('a burst of notifications is rendered once, RENDER_DELAY_MS after the first, with the clock time', () => {
  const { app, view, time } = setup();
  for (let i = 0; i < 50; i += 1) app.streamEvent('notification', event());
  assert.equal(view.count('render'), 0);
  time.advance(RENDER_DELAY_MS);
  assert.deepEqual(view.calls.filter((c) => c[0] === 'render'), [['render', 50, 1_000_000 + RENDER_DELAY_MS]]);
  assert.equal(app.state.items.length, 50);
});

test('under a flood the list is rendered at most once per FLOOD_RENDER_INTERVAL_MS; a few arrivals within RENDER_DELAY_MS', () => {
  const { app, view, time } = setup();
  const renders = () => view.calls.filter((c) => c[0] === 'render').map((c) => c[2] - 1_000_000);
  // 1,000 per second for 3 s, 10 per 10 ms.
  for (let ms = 0; ms < 3000; ms += 10) {
    for (let i = 0; i < 10; i += 1) app.streamEvent('notification', event());
    time.advance(10);
  }
  time.advance(FLOOD_RENDER_INTERVAL_MS);
  const at = renders();
  assert.ok(at.length >= 3 && at.length <= 5, `renders at ${at}`);
  for (let i = 1; i < at.length; i += 1) assert.ok(at[i] - at[i - 1] >= FLOOD_RENDER_INTERVAL_MS, `renders at ${at}`);
  assert.equal(app.state.items.length, 500);
  // Back to a trickle: each arrival shows within RENDER_DELAY_MS.
  time.advance(5000);
  const before = renders().length;
  app.streamEvent('notification', event());
  time.advance(RENDER_DELAY_MS);
  assert.equal(renders().length, before + 1);
  for (let i = 0; i < FLOOD_ROWS; i += 1) app.streamEvent('notification', event());
  time.advance(RENDER_DELAY_MS);
  assert.equal(renders().length, before + 2, 'FLOOD_ROWS at once is still not a flood');
});

test('a user action renders at once; malformed notifications are dropped', () => {
  const { app, view } = setup();
  app.streamEvent('notification', { data: '{not json', lastEventId: 'x' });
  assert.equal(app.state.items.length, 0);
  view.handlers.onPauseToggle();
  assert.equal(app.state.paused, true);
  assert.equal(view.count('render'), 1);
});

test('arrivals are announced in one batch', () => {
  const { app, view, time } = setup();
  app.streamEvent('notification', event());
  app.streamEvent('notification', event());
  time.advance(ANNOUNCE_DELAY_MS);
  assert.deepEqual(view.calls.filter((c) => c[0] === 'announce'), [['announce', '2 new notifications']]);
});

test('desktop notifications: only while hidden, never for the backlog of a fresh stream or after a reset', () => {
  const { app, desktop, time, setHidden } = setup();
  app.streamStatus('live', null, { fresh: true });
  app.streamEvent('notification', event()); // visible
  app.flush();
  setHidden(true);
  app.streamEvent('notification', event()); // hidden, but the backlog
  time.advance(BACKLOG_QUIET_MS);
  app.streamEvent('notification', event());
  time.advance(0);
  assert.equal(desktop.pushed.length, 1);
  app.streamEvent('reset', { data: JSON.stringify({ reason: 'upstream-reset' }), lastEventId: '' });
  const resetAt = time.now();
  app.streamEvent('notification', event());
  time.advance(BACKLOG_QUIET_MS - 1); // applied right away, but it arrived within the quiet time
  assert.equal(desktop.pushed.length, 1);
  assert.equal(app.state.notice.at, resetAt);
  time.advance(1);
  app.streamEvent('notification', event());
  app.flush();
  assert.equal(desktop.pushed.length, 2);
  // A resumed stream (not fresh) is news at once.
  app.streamStatus('reconnecting', null);
  app.streamStatus('live', null, { fresh: false });
  app.streamEvent('notification', event());
  app.flush();
  assert.equal(desktop.pushed.length, 3);
});

test('a burst is applied in slices of SLICE_MS, never in the task that received it, then rendered once', () => {
  const time = fakeTime();
  let reads = 0;
  // A clock that moves 1 ms each time it is read: a slice holds a few events.
  const slow = () => {
    reads += 1;
    return time.now() + reads;
  };
  const view = fakeView();
  const app = createController({
    view,
    desktop: fakeDesktop(),
    state: createState(),
    now: slow,
    setTimeout: time.setTimeout,
    clearTimeout: time.clearTimeout,
    isHidden: () => false,
    location: { pathname: '/', search: '', hash: '' },
    replaceUrl: () => {},
  });
  for (let i = 0; i < 100; i += 1) app.streamEvent('notification', event());
  assert.equal(app.state.items.length, 0, 'nothing applied inside the receiving task');
  time.step();
  const afterOne = app.state.items.length;
  assert.ok(afterOne > 0 && afterOne < 100, `one slice applied ${afterOne}`);
  time.step();
  assert.ok(app.state.items.length > afterOne);
  assert.equal(view.count('render'), 0);
  time.advance(RENDER_DELAY_MS + 100);
  assert.equal(app.state.items.length, 100);
  assert.equal(view.count('render'), 1, 'rendered once the queue was empty');
});

test("a user action first applies what the stream queued (a clear clears what arrived before it)", () => {
  const { app, view } = setup();
  for (let i = 0; i < 3; i += 1) app.streamEvent('notification', event());
  view.handlers.onClear();
  assert.equal(app.state.items.length, 0);
  assert.notEqual(app.state.lastId, null);
});

test('the unseen count goes to the title while hidden, even before the render', () => {
  const { app, view, time } = setup({ hidden: true });
  app.streamEvent('notification', event());
  time.advance(0);
  assert.deepEqual(view.calls.filter((c) => c[0] === 'setTitle').at(-1), ['setTitle', 1]);
  assert.equal(view.count('render'), 0);
  app.visibility(false);
  assert.deepEqual(view.calls.filter((c) => c[0] === 'setTitle').at(-1), ['setTitle', 0]);
  assert.equal(view.count('refreshTimes'), 1);
});

test('filters rewrite the page URL (keeping other parameters) and a server-side change restarts the stream', () => {
  const { app, view, urls, restarts } = setup({ search: '?stream=https%3A%2F%2Fb.example%2Fevents' });
  view.handlers.onFilters({ q: 'deploy' });
  assert.deepEqual(urls, ['/?stream=https%3A%2F%2Fb.example%2Fevents&q=deploy']);
  assert.equal(restarts.length, 0);
  view.handlers.onFilters({ filters: { service: ['Jenkins'] } });
  assert.equal(restarts.length, 1);
  assert.deepEqual(restarts[0].service, ['Jenkins']);
  assert.match(urls.at(-1), /service=Jenkins/);
});

test('tick refreshes the ages only while visible', () => {
  const { app, view, setHidden } = setup();
  app.tick();
  setHidden(true);
  app.tick();
  assert.equal(view.count('refreshTimes'), 1);
});

test('the desktop toggle reaches the view with the new mode', async () => {
  const { view } = setup();
  await view.handlers.onDesktopToggle();
  assert.deepEqual(view.calls.at(-1), ['setDesktop', 'on']);
});
