import assert from 'node:assert/strict';
import { test } from 'node:test';

import { buildPageSearch, buildStreamUrl, parsePageParams, resolveStreamUrl } from '../../public/js/url.js';

test('parsePageParams reads repeatable filters, q and stream', () => {
  const p = parsePageParams('?service=Jenkins&service=GitHub&group=&q=%20failed%20&stream=https%3A%2F%2Fx.example%2Fevents&key=nasqueron.ci.%23');
  assert.deepEqual(p.filters, { service: ['Jenkins', 'GitHub'], project: [], group: [''], type: [], key: ['nasqueron.ci.#'] });
  assert.equal(p.q, 'failed');
  assert.equal(p.stream, 'https://x.example/events');
});

test('parsePageParams with nothing', () => {
  const p = parsePageParams('');
  assert.equal(p.q, '');
  assert.equal(p.stream, null);
  assert.deepEqual(p.filters.service, []);
  assert.equal(parsePageParams('?stream=').stream, null);
});

test('buildPageSearch rewrites filters and keeps other parameters', () => {
  const s = buildPageSearch('?stream=http%3A%2F%2Fa%2Fevents&service=GitHub&utm=1', { service: ['Jenkins'], group: [''] }, 'build failed');
  const params = new URLSearchParams(s);
  assert.equal(params.get('stream'), 'http://a/events');
  assert.equal(params.get('utm'), '1');
  assert.deepEqual(params.getAll('service'), ['Jenkins']);
  assert.deepEqual(params.getAll('group'), ['']);
  assert.equal(params.get('q'), 'build failed');
  assert.ok(s.startsWith('?'));
});

test('buildPageSearch round-trips through parsePageParams', () => {
  const filters = { service: ['GitHub'], project: ['Nasqueron', 'Other & Co'], group: ['ops'], type: ['push'], key: ['#.push'] };
  const p = parsePageParams(buildPageSearch('', filters, 'a b'));
  assert.deepEqual(p.filters, filters);
  assert.equal(p.q, 'a b');
});

test('buildPageSearch with no filter gives an empty string', () => {
  assert.equal(buildPageSearch('?service=GitHub&q=x', {}, ''), '');
});

test('resolveStreamUrl: default is "events" next to the page', () => {
  assert.deepEqual(resolveStreamUrl({ pageHref: 'https://b.example/', streamParam: null, metaContent: '' }), {
    url: 'https://b.example/events',
    source: 'default',
  });
  assert.equal(
    resolveStreamUrl({ pageHref: 'https://infra.nasqueron.org/notifications/?service=GitHub', streamParam: null, metaContent: null }).url,
    'https://infra.nasqueron.org/notifications/events',
  );
  assert.equal(
    resolveStreamUrl({ pageHref: 'https://x.example/notifications/index.html', metaContent: '   ' }).url,
    'https://x.example/notifications/events',
  );
});

test('resolveStreamUrl: ?stream= wins over the meta tag, meta over the default', () => {
  const page = 'https://infra.nasqueron.org/notifications/';
  assert.deepEqual(resolveStreamUrl({ pageHref: page, streamParam: 'http://127.0.0.1:9/events', metaContent: 'https://m.example/events' }), {
    url: 'http://127.0.0.1:9/events',
    source: 'param',
  });
  assert.deepEqual(resolveStreamUrl({ pageHref: page, streamParam: null, metaContent: 'https://m.example/events#x' }), {
    url: 'https://m.example/events',
    source: 'meta',
  });
  assert.equal(resolveStreamUrl({ pageHref: page, streamParam: '/api/events' }).url, 'https://infra.nasqueron.org/api/events');
});

test('resolveStreamUrl refuses non-http(s) URLs', () => {
  assert.ok(resolveStreamUrl({ pageHref: 'https://a.example/', streamParam: 'javascript:alert(1)' }).error);
  assert.ok(resolveStreamUrl({ pageHref: 'https://a.example/', metaContent: 'data:text/event-stream,x' }).error);
  assert.ok(resolveStreamUrl({ pageHref: 'https://a.example/', streamParam: 'http://[::1' }).error);
});

test('buildStreamUrl adds filters, backlog and lastEventId', () => {
  const url = new URL(
    buildStreamUrl('https://b.example/events?token=abc&backlog=5', { service: ['GitHub', 'Jenkins'], group: [''], key: ['nasqueron.#'] }, {
      backlog: 100,
      lastEventId: '1795869554-0000000042',
    }),
  );
  assert.equal(url.origin + url.pathname, 'https://b.example/events');
  assert.equal(url.searchParams.get('token'), 'abc');
  assert.deepEqual(url.searchParams.getAll('service'), ['GitHub', 'Jenkins']);
  assert.deepEqual(url.searchParams.getAll('group'), ['']);
  assert.deepEqual(url.searchParams.getAll('key'), ['nasqueron.#']);
  assert.deepEqual(url.searchParams.getAll('backlog'), ['100']);
  assert.equal(url.searchParams.get('lastEventId'), '1795869554-0000000042');
});

test('buildStreamUrl without position asks for the backlog only', () => {
  const url = new URL(buildStreamUrl('http://127.0.0.1:8080/events', {}, { lastEventId: null }));
  assert.equal(url.search, '?backlog=100');
  assert.equal(new URL(buildStreamUrl('http://h/events', {}, { backlog: 0, lastEventId: '' })).search, '');
});
