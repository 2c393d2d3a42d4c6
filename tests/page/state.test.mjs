import assert from 'node:assert/strict';
import { test } from 'node:test';

import { MAX_ROWS, applyEvent, compareIds, createState, normalizeNotification, visibleItems } from '../../public/js/state.js';

const START = 1795869554;
const id = (seq) => `${START}-${String(seq).padStart(10, '0')}`;
const payload = (seq, over = {}) => ({
  id: id(seq),
  time: new Date(Date.UTC(2026, 10, 28, 12, 0, seq % 60)).toISOString(),
  service: 'GitHub',
  project: 'Nasqueron',
  group: 'ops',
  type: 'push',
  text: `commit ${seq}`,
  link: '',
  ...over,
});
const arrive = (state, seq, over) => applyEvent(state, { type: 'notification', data: payload(seq, over), lastEventId: id(seq), receivedAt: 1000 });
const ids = (list) => list.map((n) => n.id);
const feed = (state, seqs) => seqs.reduce((s, q) => arrive(s, q), state);

test('compareIds is shortlex', () => {
  assert.ok(compareIds('9', '10') < 0);
  assert.ok(compareIds('10', '9') > 0);
  assert.ok(compareIds(id(9), id(10)) < 0);
  assert.equal(compareIds('a', 'a'), 0);
  assert.ok(compareIds('b', 'a') > 0);
});

test('normalizeNotification keeps strings, nulls the rest, never throws', () => {
  const n = normalizeNotification(
    { id: 'x1', time: 'not a date', service: 'GitHub', project: null, group: 7, type: { a: 1 }, text: '<img src=x onerror=alert(1)>', link: undefined },
    { receivedAt: Date.UTC(2026, 0, 1) },
  );
  assert.equal(n.id, 'x1');
  assert.equal(n.time, '2026-01-01T00:00:00.000Z');
  assert.equal(n.project, null);
  assert.equal(n.group, '7');
  assert.equal(n.type, null);
  assert.equal(n.text, '<img src=x onerror=alert(1)>');
  assert.equal(n.link, null);
  assert.ok(Object.isFrozen(n));
  for (const bad of [null, 'str', 42, [1, 2], undefined]) assert.equal(normalizeNotification(bad), null);
});

test('normalizeNotification falls back to the SSE id, then a synthetic one', () => {
  assert.equal(normalizeNotification({ text: 'a' }, { fallbackId: 'e5', receivedAt: 5 }).id, 'e5');
  const s = normalizeNotification({ text: 'a' }, { receivedAt: 5, sequence: 2 });
  assert.equal(s.synthetic, true);
  assert.equal(s.id, 'local-5-2');
});

test('time is passed in, never read from a clock: no receivedAt, no notification', () => {
  assert.equal(normalizeNotification({ id: 'a', text: 'a' }), null);
  assert.equal(normalizeNotification({ id: 'a', text: 'a' }, { receivedAt: NaN }), null);
  const s = applyEvent(createState(), { type: 'notification', data: payload(1), lastEventId: id(1) });
  assert.deepEqual(s.items, []);
  assert.equal(s.accepted, null);
  // The time of a notification without one is its receivedAt, exactly.
  const n = normalizeNotification({ id: 'b' }, { receivedAt: Date.UTC(2030, 0, 2, 3, 4, 5) });
  assert.equal(n.time, '2030-01-02T03:04:05.000Z');
  // A reset without receivedAt has a notice with no time, not "now".
  const r = applyEvent(feed(createState(), [1]), { type: 'reset', data: { reason: 'upstream-reset' } });
  assert.equal(r.notice.at, null);
  assert.equal(applyEvent(createState(), { type: 'reset', data: {}, receivedAt: 42 }).notice.at, 42);
});

test('state.js reads no clock', async () => {
  const { readFileSync } = await import('node:fs');
  const src = readFileSync(new URL('../../public/js/state.js', import.meta.url), 'utf8').replace(/\/\/.*$/gm, '');
  assert.doesNotMatch(src, /Date\.now|new Date\(\)|performance\.now/);
});

test('filterInPage: an unfiltered (shared) stream is filtered here as the bridge would', () => {
  let s = createState({ filters: { service: ['jenkins'], key: ['*.ci.#'] }, filterInPage: true });
  s = arrive(s, 1, { service: 'Jenkins', group: 'ci' });
  s = arrive(s, 2, { service: 'GitHub', group: 'ci' });
  s = arrive(s, 3, { service: 'Jenkins', group: 'ops' });
  assert.deepEqual(ids(s.items), [id(1)]);
  assert.equal(s.accepted, null);
  // Without it, the bridge filtered already: everything received is kept.
  const b = arrive(arrive(createState({ filters: { service: ['Jenkins'] } }), 1, { service: 'GitHub' }), 2, { service: 'Jenkins' });
  assert.equal(b.items.length, 2);
});

test('notifications show newest first', () => {
  const s = feed(createState(), [1, 2, 3]);
  assert.deepEqual(ids(s.items), [id(3), id(2), id(1)]);
  assert.equal(s.lastId, id(3));
  assert.equal(s.accepted.id, id(3));
});

test('applyEvent does not mutate its input', () => {
  const a = feed(createState(), [1]);
  const frozen = JSON.stringify(a);
  const b = arrive(a, 2);
  assert.equal(JSON.stringify(a), frozen);
  assert.notEqual(a, b);
  assert.ok(Object.isFrozen(b) && Object.isFrozen(b.items));
});

test('duplicates are dropped: same id, or an id not after the last one', () => {
  let s = feed(createState(), [1, 2, 3]);
  const again = arrive(s, 3);
  assert.deepEqual(ids(again.items), ids(s.items));
  assert.equal(again.accepted, null);
  s = arrive(s, 2); // replayed after a reconnect
  assert.deepEqual(ids(s.items), [id(3), id(2), id(1)]);
  s = arrive(s, 4);
  assert.deepEqual(ids(s.items), [id(4), id(3), id(2), id(1)]);
});

test('a duplicate after clear is still a duplicate (no resurrection)', () => {
  let s = feed(createState(), [1, 2]);
  s = applyEvent(s, { type: 'clear' });
  assert.deepEqual(s.items, []);
  s = feed(s, [1, 2, 3]);
  assert.deepEqual(ids(s.items), [id(3)]);
});

test('malformed data is ignored', () => {
  const s0 = feed(createState(), [1]);
  const s1 = applyEvent(s0, { type: 'notification', data: 'not an object' });
  assert.deepEqual(s1.items, s0.items);
  assert.equal(s1.accepted, null);
});

test('synthetic ids are never deduplicated', () => {
  let s = createState();
  s = applyEvent(s, { type: 'notification', data: { text: 'a' }, receivedAt: 1 });
  s = applyEvent(s, { type: 'notification', data: { text: 'a' }, receivedAt: 1 });
  assert.equal(s.items.length, 2);
  assert.notEqual(s.items[0].id, s.items[1].id);
});

test(`state keeps at most ${MAX_ROWS} items, dropping the oldest`, () => {
  assert.equal(MAX_ROWS, 500);
  const s = feed(createState(), Array.from({ length: 520 }, (_, i) => i + 1));
  assert.equal(s.items.length, 500);
  assert.equal(s.items[0].id, id(520));
  assert.equal(s.items[499].id, id(21));
});

test('pause buffers, counts and resume shows them in order', () => {
  let s = feed(createState(), [1]);
  s = applyEvent(s, { type: 'pause' });
  s = feed(s, [2, 3, 4]);
  assert.deepEqual(ids(s.items), [id(1)]);
  assert.deepEqual(ids(s.pending), [id(4), id(3), id(2)]);
  assert.equal(s.pendingCount, 3);
  s = arrive(s, 3); // duplicate of a buffered one
  assert.equal(s.pendingCount, 3);
  s = applyEvent(s, { type: 'resume' });
  assert.equal(s.paused, false);
  assert.deepEqual(ids(s.items), [id(4), id(3), id(2), id(1)]);
  assert.deepEqual(s.pending, []);
  assert.equal(s.pendingCount, 0);
});

test('the pause buffer is bounded too; the count says how many arrived', () => {
  let s = applyEvent(createState(), { type: 'pause' });
  s = feed(s, Array.from({ length: 600 }, (_, i) => i + 1));
  assert.equal(s.pending.length, MAX_ROWS);
  assert.equal(s.pendingCount, 600);
  s = applyEvent(s, { type: 'resume' });
  assert.equal(s.items.length, MAX_ROWS);
  assert.equal(s.items[0].id, id(600));
});

test('pause and resume are idempotent', () => {
  const s = applyEvent(createState(), { type: 'resume' });
  assert.equal(s.paused, false);
  const p = applyEvent(applyEvent(s, { type: 'pause' }), { type: 'pause' });
  assert.equal(p.paused, true);
});

test('clear empties the list and the buffer', () => {
  let s = applyEvent(feed(createState(), [1, 2]), { type: 'pause' });
  s = feed(s, [3]);
  s = applyEvent(s, { type: 'clear' });
  assert.deepEqual([s.items.length, s.pending.length, s.pendingCount], [0, 0, 0]);
  assert.equal(s.paused, true);
});

test('reset drops what is shown, notes why, and accepts the backlog that follows', () => {
  let s = feed(createState(), [10, 11, 12]);
  s = applyEvent(s, { type: 'reset', data: { reason: 'unknown-last-event-id', message: 'gone' }, receivedAt: 5 });
  assert.deepEqual(s.items, []);
  assert.equal(s.notice.reason, 'unknown-last-event-id');
  assert.equal(s.notice.at, 5);
  s = feed(s, [5, 6]); // lower ids than before: still accepted
  assert.deepEqual(ids(s.items), [id(6), id(5)]);
  s = applyEvent(s, { type: 'dismissNotice' });
  assert.equal(s.notice, null);
});

test('reset with garbage data still resets', () => {
  const s = applyEvent(feed(createState(), [1]), { type: 'reset', data: null });
  assert.deepEqual(s.items, []);
  assert.equal(s.notice.reason, 'unknown');
});

test('unseen counts what arrives while hidden and passes the filters', () => {
  let s = applyEvent(createState({ q: 'deploy' }), { type: 'visibility', hidden: true });
  s = arrive(s, 1, { text: 'deploy ok' });
  s = arrive(s, 2, { text: 'other' });
  s = arrive(s, 1, { text: 'deploy ok' }); // duplicate
  assert.equal(s.unseen, 1);
  s = applyEvent(s, { type: 'visibility', hidden: false });
  assert.equal(s.unseen, 0);
  s = arrive(s, 3, { text: 'deploy again' });
  assert.equal(s.unseen, 0);
});

test('downSince: when the stream stopped being live (or the page started), null while live', () => {
  let s = createState({ startedAt: 100 });
  assert.equal(s.downSince, 100);
  assert.equal(s.everLive, false);
  s = applyEvent(s, { type: 'status', status: 'connecting', at: 150 });
  assert.equal(s.downSince, 100, 'still the start: never live yet');
  s = applyEvent(s, { type: 'status', status: 'live', at: 200 });
  assert.equal(s.downSince, null);
  assert.equal(s.everLive, true);
  s = applyEvent(s, { type: 'status', status: 'reconnecting', at: 300 });
  assert.equal(s.downSince, 300);
  s = applyEvent(s, { type: 'status', status: 'reconnecting', retryInMs: 2000, at: 400 });
  s = applyEvent(s, { type: 'status', status: 'offline', at: 500 });
  assert.equal(s.downSince, 300, 'down since it left live, whatever came next');
  s = applyEvent(s, { type: 'status', status: 'live', at: 600 });
  assert.equal(s.downSince, null);
  assert.equal(s.everLive, true);
  // No time given: unknown, never read from a clock.
  assert.equal(applyEvent(s, { type: 'status', status: 'reconnecting' }).downSince, null);
  assert.equal(createState().downSince, null);
});

test('status events', () => {
  let s = applyEvent(createState(), { type: 'status', status: 'reconnecting', retryInMs: 2000 });
  assert.equal(s.status, 'reconnecting');
  assert.equal(s.retryInMs, 2000);
  s = applyEvent(s, { type: 'status', status: 'live' });
  assert.equal(s.retryInMs, null);
  assert.equal(applyEvent(s, { type: 'status', status: 'bogus' }), s);
});

test('a client-side filter change keeps the list; a server-side one restarts', () => {
  let s = feed(createState(), [1, 2]);
  const q = applyEvent(s, { type: 'filters', q: 'commit 1' });
  assert.equal(q.items, s.items);
  assert.equal(q.streamGeneration, s.streamGeneration);
  assert.deepEqual(ids(visibleItems(q)), [id(1)]);
  s = applyEvent(q, { type: 'filters', filters: { service: ['Jenkins'] } });
  assert.deepEqual(s.items, []);
  assert.equal(s.lastId, null);
  assert.equal(s.streamGeneration, q.streamGeneration + 1);
  assert.equal(s.q, 'commit 1');
  const same = applyEvent(s, { type: 'filters', filters: { service: ['jenkins'] } });
  assert.equal(same.streamGeneration, s.streamGeneration);
});

test('visibleItems applies server and text filters', () => {
  let s = createState({ filters: { service: ['Jenkins'] } });
  s = arrive(s, 1, { service: 'Jenkins', text: 'build ok' });
  s = arrive(s, 2, { service: 'GitHub' }); // the bridge should not send it; hidden anyway
  s = arrive(s, 3, { service: 'jenkins', text: 'build failed' });
  assert.deepEqual(ids(visibleItems(s)), [id(3), id(1)]);
  s = applyEvent(s, { type: 'filters', q: 'FAILED' });
  assert.deepEqual(ids(visibleItems(s)), [id(3)]);
});

test('unknown events leave the state alone', () => {
  const s = createState();
  assert.equal(applyEvent(s, { type: 'nope' }), s);
  assert.equal(applyEvent(s, null), s);
});
