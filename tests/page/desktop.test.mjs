import assert from 'node:assert/strict';
import { test } from 'node:test';

import { DESKTOP_DELAY_MS, DESKTOP_KEY, createDesktopNotifier, desktopMessage } from '../../public/js/desktop.js';

// A recording Notification class whose permission the test sets.
function fakeNotification(permission = 'default', answer = 'granted') {
  const shown = [];
  class FakeNotification {
    static permission = permission;
    static requests = 0;
    static requestPermission() {
      FakeNotification.requests += 1;
      FakeNotification.permission = answer;
      return Promise.resolve(answer);
    }
    constructor(title, options) {
      this.title = title;
      this.options = options;
      this.closed = false;
      shown.push(this);
    }
    close() {
      this.closed = true;
    }
  }
  return { FakeNotification, shown };
}

function fakeStorage(initial = {}, { throws = false } = {}) {
  const data = new Map(Object.entries(initial));
  return {
    data,
    getItem(k) {
      if (throws) throw new Error('SecurityError');
      return data.has(k) ? data.get(k) : null;
    },
    setItem(k, v) {
      if (throws) throw new Error('QuotaExceededError');
      data.set(k, String(v));
    },
    removeItem(k) {
      if (throws) throw new Error('SecurityError');
      data.delete(k);
    },
  };
}

function fakeTimers() {
  const pending = new Map();
  let next = 1;
  return {
    setTimeout: (fn, ms) => {
      pending.set(next, { fn, ms });
      return next++;
    },
    clearTimeout: (h) => pending.delete(h),
    fire() {
      const all = [...pending.values()];
      pending.clear();
      for (const t of all) t.fn();
      return all.map((t) => t.ms);
    },
    get count() {
      return pending.size;
    },
  };
}

const n = (i, over = {}) => ({ id: `id-${i}`, service: 'Jenkins', project: 'Nasqueron', group: 'ci', type: 'started', text: `build ${i}`, link: null, ...over });

test('without a Notification class the mode is unsupported and nothing throws', async () => {
  const d = createDesktopNotifier({ Notification: null, storage: fakeStorage(), ...fakeTimers() });
  assert.equal(d.mode(), 'unsupported');
  assert.equal(await d.toggle(), 'unsupported');
  d.push(n(1));
});

test('the permission is asked only on toggle, and the choice is remembered in storage', async () => {
  const { FakeNotification } = fakeNotification('default', 'granted');
  const storage = fakeStorage();
  const d = createDesktopNotifier({ Notification: FakeNotification, storage, ...fakeTimers() });
  assert.equal(d.mode(), 'off');
  assert.equal(FakeNotification.requests, 0);
  assert.equal(await d.toggle(), 'on');
  assert.equal(FakeNotification.requests, 1);
  assert.equal(storage.data.get(DESKTOP_KEY), 'on');
  assert.equal(await d.toggle(), 'off');
  assert.equal(storage.data.has(DESKTOP_KEY), false);
  assert.equal(FakeNotification.requests, 1);
});

test('a remembered opt-in is on at start only while the permission is granted', () => {
  const granted = fakeNotification('granted').FakeNotification;
  assert.equal(createDesktopNotifier({ Notification: granted, storage: fakeStorage({ [DESKTOP_KEY]: 'on' }), ...fakeTimers() }).mode(), 'on');
  assert.equal(createDesktopNotifier({ Notification: granted, storage: fakeStorage(), ...fakeTimers() }).mode(), 'off');
  const denied = fakeNotification('denied').FakeNotification;
  assert.equal(createDesktopNotifier({ Notification: denied, storage: fakeStorage({ [DESKTOP_KEY]: 'on' }), ...fakeTimers() }).mode(), 'denied');
});

test('a refused permission leaves it off', async () => {
  const { FakeNotification } = fakeNotification('default', 'denied');
  const storage = fakeStorage();
  const d = createDesktopNotifier({ Notification: FakeNotification, storage, ...fakeTimers() });
  assert.equal(await d.toggle(), 'denied');
  assert.equal(storage.data.has(DESKTOP_KEY), false);
});

test('a storage that throws (or none) makes the choice last for the page only', async () => {
  for (const storage of [fakeStorage({}, { throws: true }), null]) {
    const { FakeNotification } = fakeNotification('granted');
    const d = createDesktopNotifier({ Notification: FakeNotification, storage, ...fakeTimers() });
    assert.equal(d.mode(), 'off');
    assert.equal(await d.toggle(), 'on');
  }
});

test('notifications pushed within the delay become one; one alone names its service and origin', async () => {
  const { FakeNotification, shown } = fakeNotification('granted');
  const timers = fakeTimers();
  let focused = 0;
  const d = createDesktopNotifier({ Notification: FakeNotification, storage: fakeStorage(), ...timers, focus: () => (focused += 1) });
  d.push(n(1)); // off: ignored
  assert.equal(timers.count, 0);
  await d.toggle();
  d.push(n(1));
  assert.deepEqual(timers.fire(), [DESKTOP_DELAY_MS]);
  assert.equal(shown.length, 1);
  assert.equal(shown[0].title, 'Jenkins · Nasqueron / ci');
  assert.equal(shown[0].options.body, 'build 1');
  assert.equal(shown[0].options.tag, 'nasqueron-id-1');
  shown[0].onclick();
  assert.equal(focused, 1);
  assert.equal(shown[0].closed, true);

  for (let i = 2; i <= 6; i += 1) d.push(n(i));
  assert.equal(timers.count, 1);
  timers.fire();
  assert.equal(shown.length, 2);
  assert.equal(shown[1].title, '5 new Nasqueron notifications');
  assert.equal(shown[1].options.body, 'Jenkins: build 6\nJenkins: build 5\nJenkins: build 4');
  assert.equal(shown[1].options.tag, 'nasqueron-batch');
});

test('nothing is shown when the permission was withdrawn meanwhile, or after stop()', async () => {
  const { FakeNotification, shown } = fakeNotification('granted');
  const timers = fakeTimers();
  const d = createDesktopNotifier({ Notification: FakeNotification, storage: fakeStorage(), ...timers });
  await d.toggle();
  d.push(n(1));
  FakeNotification.permission = 'denied';
  timers.fire();
  assert.equal(shown.length, 0);
  FakeNotification.permission = 'granted';
  d.push(n(2));
  d.stop();
  assert.equal(timers.count, 0);
  assert.equal(shown.length, 0);
});

test('a constructor that throws (Chrome on Android) is swallowed', async () => {
  class Throwing {
    static permission = 'granted';
    constructor() {
      throw new TypeError('Illegal constructor');
    }
  }
  const timers = fakeTimers();
  const d = createDesktopNotifier({ Notification: Throwing, storage: fakeStorage(), ...timers });
  await d.toggle();
  d.push(n(1));
  timers.fire();
});

test('desktopMessage: missing text falls back to the type', () => {
  assert.equal(desktopMessage([n(1, { text: null })]).body, 'started');
  assert.equal(desktopMessage([n(1, { text: null, type: null })]).body, '');
});
