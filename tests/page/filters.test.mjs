import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  asciiLower,
  emptyFilters,
  hasServerFilters,
  matchesFilters,
  matchesServerFilters,
  matchesText,
  normalizeFilters,
  routingKey,
  sameServerFilters,
  topicMatches,
} from '../../public/js/filters.js';

const n = (over = {}) => ({
  id: '1',
  service: 'GitHub',
  project: 'Nasqueron',
  group: 'ops',
  type: 'push',
  text: 'dereckson pushed 2 commits to operations',
  link: 'https://github.com/nasqueron/operations',
  ...over,
});

test('asciiLower folds A-Z only', () => {
  assert.equal(asciiLower('GitHub İ É'), 'github İ É');
});

test('normalizeFilters keeps distinct strings per key and drops unknown keys', () => {
  const f = normalizeFilters({ service: ['GitHub', 'github', 'Jenkins', 3], project: 'Nasqueron', bogus: ['x'], group: [''] });
  assert.deepEqual(f, { service: ['GitHub', 'Jenkins'], project: ['Nasqueron'], group: [''], type: [], key: [] });
  assert.deepEqual(normalizeFilters(null), emptyFilters());
});

test('normalizeFilters drops empty values except for group (the empty group)', () => {
  assert.deepEqual(normalizeFilters({ service: [''], group: [''] }).service, []);
  assert.deepEqual(normalizeFilters({ group: [''] }).group, ['']);
});

test('sameServerFilters ignores case and unknown keys, not order or values', () => {
  assert.ok(sameServerFilters({ service: ['GitHub'] }, { service: ['github'], extra: 1 }));
  assert.ok(!sameServerFilters({ service: ['GitHub'] }, { service: ['Jenkins'] }));
  assert.ok(!sameServerFilters({ group: [''] }, {}));
  assert.ok(sameServerFilters({}, emptyFilters()));
});

test('hasServerFilters', () => {
  assert.equal(hasServerFilters({}), false);
  assert.equal(hasServerFilters({ group: [''] }), true);
});

test('routingKey is lowercase project.group.service.type with "" for null', () => {
  assert.equal(routingKey(n()), 'nasqueron.ops.github.push');
  assert.equal(routingKey(n({ group: null, type: 'completed.success', service: 'Jenkins' })), 'nasqueron..jenkins.completed.success');
});

test('topicMatches follows AMQP: * is one word, # zero or more', () => {
  assert.ok(topicMatches('nasqueron.ops.#', 'nasqueron.ops.github.push'));
  assert.ok(topicMatches('nasqueron.ops.#', 'nasqueron.ops'));
  assert.ok(topicMatches('#', 'a.b.c'));
  assert.ok(topicMatches('*.ci.jenkins.completed.*', 'nasqueron.ci.jenkins.completed.success'));
  assert.ok(!topicMatches('*.ci.jenkins.completed.*', 'nasqueron.ci.jenkins.completed'));
  assert.ok(!topicMatches('*.ops', 'nasqueron.ops.github'));
  assert.ok(topicMatches('#.push', 'nasqueron.ops.github.push'));
  assert.ok(topicMatches('nasqueron.#.push', 'nasqueron.push'));
  assert.ok(!topicMatches('nasqueron.*.push', 'nasqueron.push'));
  assert.ok(topicMatches('a.#.#.b', 'a.b'));
});

test('topicMatches stays fast with many #', () => {
  const key = Array.from({ length: 40 }, () => 'a').join('.');
  const start = Date.now();
  assert.equal(topicMatches('#.#.#.#.#.#.#.#.#.#.b', key), false);
  assert.ok(Date.now() - start < 500);
});

test('server filters: OR within a key, AND across keys, case-insensitive', () => {
  assert.ok(matchesServerFilters(n(), { service: ['github', 'Jenkins'] }));
  assert.ok(!matchesServerFilters(n(), { service: ['Jenkins'] }));
  assert.ok(matchesServerFilters(n(), { service: ['GITHUB'], group: ['OPS'] }));
  assert.ok(!matchesServerFilters(n(), { service: ['GitHub'], group: ['ci'] }));
  assert.ok(matchesServerFilters(n({ group: '' }), { group: [''] }));
  assert.ok(matchesServerFilters(n({ group: null }), { group: [''] }));
  assert.ok(!matchesServerFilters(n(), { group: [''] }));
  assert.ok(matchesServerFilters(n(), { key: ['nasqueron.ops.#'] }));
  assert.ok(!matchesServerFilters(n(), { key: ['*.ci.#'] }));
  assert.ok(!matchesServerFilters(n({ service: null }), { service: ['GitHub'] }));
});

test('free text: every word, any field, case-insensitive', () => {
  assert.ok(matchesText(n(), ''));
  assert.ok(matchesText(n(), '  '));
  assert.ok(matchesText(n(), 'DERECKSON operations'));
  assert.ok(matchesText(n(), 'github.com'));
  assert.ok(!matchesText(n(), 'dereckson jenkins'));
  assert.ok(matchesText(n({ text: null }), 'push'));
});

test('matchesFilters combines both', () => {
  assert.ok(matchesFilters(n(), { service: ['GitHub'] }, 'commits'));
  assert.ok(!matchesFilters(n(), { service: ['GitHub'] }, 'failed'));
});
