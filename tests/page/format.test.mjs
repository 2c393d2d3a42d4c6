import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  countLabel,
  downBanner,
  formatClock,
  formatDuration,
  formatFull,
  formatRelative,
  newCountLabel,
  originLabel,
  pageTitle,
  safeLink,
  serviceLabel,
  serviceSlug,
  statusLabel,
  timeTitle,
} from '../../public/js/format.js';

const UTC = { locale: 'en-GB', timeZone: 'UTC' };
const at = (iso) => Date.parse(iso);

test('serviceSlug recognises the four badges, anything else is "other"', () => {
  assert.equal(serviceSlug('GitHub'), 'github');
  assert.equal(serviceSlug('github'), 'github');
  assert.equal(serviceSlug('Jenkins'), 'jenkins');
  assert.equal(serviceSlug('Phabricator'), 'phabricator');
  assert.equal(serviceSlug('DockerHub'), 'dockerhub');
  assert.equal(serviceSlug('Docker Hub'), 'dockerhub');
  assert.equal(serviceSlug('Sentry'), 'other');
  assert.equal(serviceSlug(null), 'other');
  assert.equal(serviceSlug('<b>GitHub</b>'), 'other');
});

test('serviceLabel and originLabel', () => {
  assert.equal(serviceLabel('GitHub'), 'GitHub');
  assert.equal(serviceLabel(null), 'Unknown');
  assert.equal(serviceLabel('  '), 'Unknown');
  assert.equal(originLabel('Nasqueron', 'ops'), 'Nasqueron / ops');
  assert.equal(originLabel('Nasqueron', ''), 'Nasqueron');
  assert.equal(originLabel('Nasqueron', null), 'Nasqueron');
  assert.equal(originLabel(null, 'ops'), 'ops');
  assert.equal(originLabel(null, null), '—');
});

test('formatRelative', () => {
  const now = at('2026-11-28T12:00:00Z');
  assert.equal(formatRelative(now, now), 'just now');
  assert.equal(formatRelative(now - 9000, now), 'just now');
  assert.equal(formatRelative(now - 42000, now), '42 s ago');
  assert.equal(formatRelative(now - 3 * 60000 - 5000, now), '3 min ago');
  assert.equal(formatRelative(now - 2 * 3600000, now), '2 h ago');
  assert.equal(formatRelative(now - 86400000, now), '1 day ago');
  assert.equal(formatRelative(now - 5 * 86400000, now), '5 days ago');
  assert.equal(formatRelative(now + 30000, now), 'just now');
  assert.equal(formatRelative(now + 3 * 60000, now), 'in 3 min');
  assert.equal(formatRelative(NaN, now), '');
});

test('formatClock shows the time today, the date otherwise', () => {
  const now = at('2026-11-28T18:00:00Z');
  assert.equal(formatClock(at('2026-11-28T12:03:07.123Z'), now, UTC), '12:03:07');
  assert.equal(formatClock(at('2026-11-27T09:05:00Z'), now, UTC), '27 Nov, 09:05');
  assert.equal(formatClock(at('2025-11-27T09:05:00Z'), now, UTC), '27 Nov 2025, 09:05');
  assert.equal(formatClock(NaN, now, UTC), '');
});

test('formatClock uses the given time zone (local time in the browser)', () => {
  const now = at('2026-11-28T23:30:00Z');
  assert.equal(formatClock(at('2026-11-28T23:00:00Z'), now, { locale: 'en-GB', timeZone: 'Europe/Brussels' }), '00:00:00');
});

test('formatFull and timeTitle', () => {
  const t = at('2026-11-28T12:03:07Z');
  // ICU's exact punctuation varies between versions: check the parts.
  assert.match(formatFull(t, UTC), /^Saturday,? 28 November 2026\b.*12:03:07$/);
  assert.match(timeTitle(t, t + 180000, UTC), /^3 min ago · Saturday,? 28 November 2026\b.*12:03:07$/);
});

test('safeLink allows http and https only', () => {
  assert.deepEqual(safeLink('https://github.com/nasqueron/operations/compare/a...b'), {
    href: 'https://github.com/nasqueron/operations/compare/a...b',
    label: 'github.com/nasqueron/operations/compare/a...b',
  });
  assert.deepEqual(safeLink('http://example.org/'), { href: 'http://example.org/', label: 'example.org' });
  assert.equal(safeLink('javascript:alert(1)'), null);
  assert.equal(safeLink(' JavaScript:alert(1)'), null);
  assert.equal(safeLink('java\tscript:alert(1)'), null);
  assert.equal(safeLink('data:text/html,<script>alert(1)</script>'), null);
  assert.equal(safeLink('vbscript:x'), null);
  assert.equal(safeLink('//evil.example/x'), null);
  assert.equal(safeLink('/relative'), null);
  assert.equal(safeLink(''), null);
  assert.equal(safeLink(null), null);
  assert.equal(safeLink(42), null);
  assert.equal(safeLink('https://user:pw@example.org/').label, 'https://user:pw@example.org/');
});

test('pageTitle, newCountLabel, countLabel', () => {
  assert.equal(pageTitle(0), 'Nasqueron notifications');
  assert.equal(pageTitle(3), '(3) Nasqueron notifications');
  assert.equal(newCountLabel(12), '12 new');
  assert.equal(countLabel(1), '1 notification');
  assert.equal(countLabel(42), '42 notifications');
});

test('statusLabel is words, not only a colour', () => {
  assert.equal(statusLabel('live'), 'Live');
  assert.equal(statusLabel('refused'), 'Stream refused');
  assert.equal(statusLabel('connecting'), 'Connecting…');
  assert.equal(statusLabel('reconnecting'), 'Reconnecting…');
  assert.equal(statusLabel('reconnecting', 4200), 'Reconnecting in 4 s…');
  assert.equal(statusLabel('reconnecting', 200), 'Reconnecting in 1 s…');
  assert.equal(statusLabel('offline'), 'Offline');
});

test('formatDuration', () => {
  assert.equal(formatDuration(0), '0 s');
  assert.equal(formatDuration(45_999), '45 s');
  assert.equal(formatDuration(12 * 60_000 + 5), '12 min');
  assert.equal(formatDuration(2 * 3_600_000), '2 h');
  assert.equal(formatDuration(2 * 3_600_000 + 5 * 60_000), '2 h 5 min');
  assert.equal(formatDuration(86_400_000), '1 day');
  assert.equal(formatDuration(3 * 86_400_000 + 4 * 3_600_000), '3 days 4 h');
  assert.equal(formatDuration(-5), '0 s');
  assert.equal(formatDuration(NaN), '0 s');
});

test('downBanner says since when the stream is down, and what the page does about it', () => {
  const UTC = { locale: 'en-GB', timeZone: 'UTC' };
  const down = Date.parse('2026-11-28T14:03:27Z');
  const now = down + 12 * 60_000;
  assert.equal(downBanner({ status: 'live', downSince: null, everLive: true }, now, UTC), null);
  assert.equal(downBanner({ status: 'reconnecting', downSince: null, everLive: true }, now, UTC), null);
  assert.equal(
    downBanner({ status: 'reconnecting', retryInMs: 8000, downSince: down, everLive: true }, now, UTC),
    'Stream down since 14:03:27 (12 min) · Reconnecting in 8 s…',
  );
  assert.equal(downBanner({ status: 'connecting', retryInMs: null, downSince: down, everLive: false }, down + 3000, UTC), 'No stream yet since 14:03:27 (3 s) · Connecting…');
  assert.equal(downBanner({ status: 'offline', downSince: down, everLive: true }, down + 86_400_000 + 3_600_000, UTC), 'Stream down since 28 Nov, 14:03 (1 day 1 h) · Offline');
});
