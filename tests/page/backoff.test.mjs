import assert from 'node:assert/strict';
import { test } from 'node:test';

import { DEFAULT_BACKOFF, backoffDelay } from '../../public/js/backoff.js';

test('the nominal delay doubles from 1 s and stops at 30 s', () => {
  const mid = () => 0.5; // no jitter
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5, 6, 20, 5000].map((a) => backoffDelay(a, DEFAULT_BACKOFF, mid)),
    [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000],
  );
});

test('jitter spreads the delay by ±50%', () => {
  assert.equal(backoffDelay(0, DEFAULT_BACKOFF, () => 0), 500);
  assert.equal(backoffDelay(0, DEFAULT_BACKOFF, () => 0.999999), 1500);
  assert.equal(backoffDelay(10, DEFAULT_BACKOFF, () => 0), 15000);
  for (let i = 0; i < 1000; i += 1) {
    const d = backoffDelay(3, DEFAULT_BACKOFF);
    assert.ok(d >= 4000 && d <= 12000, String(d));
  }
});

test('bad attempts count as 0 and options merge with the defaults', () => {
  assert.equal(backoffDelay(-3, DEFAULT_BACKOFF, () => 0.5), 1000);
  assert.equal(backoffDelay(NaN, DEFAULT_BACKOFF, () => 0.5), 1000);
  assert.equal(backoffDelay(2, { baseMs: 100 }, () => 0.5), 400);
  assert.equal(backoffDelay(2, { baseMs: 100, jitter: 0 }, () => 0), 400);
});
