import assert from 'node:assert/strict';
import { test } from 'node:test';

import { buildPageSearch, buildStreamUrl, parseAllowedOrigins, parsePageParams, resolveStreamUrl } from '../../public/js/url.js';

test('parsePageParams reads repeatable filters, q and stream', () => {
  const p = parsePageParams('?service=Jenkins&service=GitHub&group=&q=%20failed%20&stream=https%3A%2F%2Fx.example%2Fevents&key=nasqueron.ci.%23');
  assert.deepEqual(p.filters, { service: ['Jenkins', 'GitHub'], project: [], group: [''], type: [], key: ['nasqueron.ci.#'] });
  assert.equal(p.q, 'failed');
  assert.equal(p.stream, 'https://x.example/events');
});

test('parsePageParams: ?kiosk, ?kiosk=1 turn the wall-screen mode on; 0, false, no, off do not', () => {
  for (const on of ['?kiosk', '?kiosk=1', '?kiosk=yes', '?kiosk=true&service=Jenkins']) assert.equal(parsePageParams(on).kiosk, true, on);
  for (const off of ['', '?kiosk=0', '?kiosk=false', '?kiosk=No', '?kiosk=off', '?kioskx=1']) assert.equal(parsePageParams(off).kiosk, false, off);
  // The page keeps it when it rewrites its URL.
  assert.equal(buildPageSearch('?kiosk=1', { service: ['Jenkins'] }, ''), '?kiosk=1&service=Jenkins');
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
  assert.deepEqual(resolveStreamUrl({ pageHref: page, streamParam: 'http://127.0.0.1:9/events', metaContent: 'https://m.example/events', originsContent: 'http://127.0.0.1:9' }), {
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

test('parseAllowedOrigins: origins separated by spaces or commas, normalized; anything else allows nothing', () => {
  assert.deepEqual(parseAllowedOrigins(''), { any: false, origins: [], invalid: [] });
  assert.deepEqual(parseAllowedOrigins(null), { any: false, origins: [], invalid: [] });
  assert.deepEqual(parseAllowedOrigins(' https://API.Nasqueron.org/ ,http://127.0.0.1:8080\nhttps://b.example:443 https://api.nasqueron.org'), {
    any: false,
    origins: ['https://api.nasqueron.org', 'http://127.0.0.1:8080', 'https://b.example'],
    invalid: [],
  });
  assert.deepEqual(parseAllowedOrigins('*').any, true);
  assert.deepEqual(
    parseAllowedOrigins('https://a.example/events https://a.example/. https://a.example/? https://a.example/#x ftp://a.example javascript:alert(1) api.nasqueron.org https://u:p@a.example').invalid,
    ['https://a.example/events', 'https://a.example/.', 'https://a.example/?', 'https://a.example/#x', 'ftp://a.example', 'javascript:alert(1)', 'api.nasqueron.org', 'https://u:p@a.example'],
  );
});

test('resolveStreamUrl: ?stream= is same-origin only by default', () => {
  const pageHref = 'https://infra.nasqueron.org/notifications/';
  for (const streamParam of ['https://evil.example/events', 'http://infra.nasqueron.org/notifications/events', 'https://infra.nasqueron.org:8443/events', '//evil.example/events']) {
    const r = resolveStreamUrl({ pageHref, streamParam, metaContent: '' });
    assert.ok(r.error, streamParam);
    assert.equal(r.url, undefined);
    assert.equal(r.refused, new URL(streamParam, pageHref).origin);
    assert.match(r.error, /^Refused: .*points the page at https?:\/\/[^ ]+, which its configuration does not allow \(allowed: https:\/\/infra\.nasqueron\.org\)/);
  }
  assert.deepEqual(resolveStreamUrl({ pageHref, streamParam: '/other/events' }), { url: 'https://infra.nasqueron.org/other/events', source: 'param' });
  assert.deepEqual(resolveStreamUrl({ pageHref, streamParam: 'https://INFRA.nasqueron.org:443/x' }), { url: 'https://infra.nasqueron.org/x', source: 'param' });
});

test("resolveStreamUrl: the configured stream's origin and the listed origins are allowed (the infra.nasqueron.org deployment)", () => {
  const pageHref = 'https://infra.nasqueron.org/notifications/';
  const metaContent = 'https://api.nasqueron.org/notifications/events';
  // The published page: the meta tag names the stream, so its origin is trusted.
  assert.deepEqual(resolveStreamUrl({ pageHref, streamParam: 'https://api.nasqueron.org/notifications/events?service=Jenkins', metaContent }), {
    url: 'https://api.nasqueron.org/notifications/events?service=Jenkins',
    source: 'param',
  });
  const refused = resolveStreamUrl({ pageHref, streamParam: 'https://bridge.example/events', metaContent });
  assert.equal(refused.refused, 'https://bridge.example');
  assert.match(refused.error, /allowed: https:\/\/infra\.nasqueron\.org, https:\/\/api\.nasqueron\.org\)/);
  // An extra origin listed in notifications-stream-origins.
  const originsContent = 'https://bridge.example http://127.0.0.1:8080';
  assert.equal(resolveStreamUrl({ pageHref, streamParam: 'https://bridge.example/events', metaContent, originsContent }).source, 'param');
  assert.equal(resolveStreamUrl({ pageHref, streamParam: 'http://127.0.0.1:8080/events', originsContent }).source, 'param');
  assert.ok(resolveStreamUrl({ pageHref, streamParam: 'http://127.0.0.1:8081/events', originsContent }).refused);
  // "*": any origin, knowingly.
  assert.equal(resolveStreamUrl({ pageHref, streamParam: 'https://anything.example/events', originsContent: '*' }).source, 'param');
  // Without ?stream= the allow-list plays no part.
  assert.deepEqual(resolveStreamUrl({ pageHref, metaContent, originsContent: '' }), { url: metaContent, source: 'meta' });
});

test('resolveStreamUrl: a broken meta tag is reported even when ?stream= is given', () => {
  assert.match(resolveStreamUrl({ pageHref: 'https://a.example/', streamParam: '/events', metaContent: 'javascript:x' }).error, /page configuration/);
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
