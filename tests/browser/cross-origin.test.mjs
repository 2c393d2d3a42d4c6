// The page published as plain files on another site (as on
// infra.nasqueron.org), reading the bridge's stream cross-origin: through
// ?stream=, and through the <meta name="notifications-stream"> tag under a
// base path; an origin the bridge does not list gets nothing.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  fixtureTexts,
  launchBrowser,
  missingPrerequisite,
  openPage,
  postNotification,
  recorded,
  rowIds,
  startBridge,
  startMock,
  startStaticServer,
  waitForStatus,
  waitForTexts,
} from './helpers.mjs';

const skip = missingPrerequisite();

describe('published on another origin', { skip: skip ?? false }, () => {
  let browser;
  let mock;
  let bridge;
  let site;
  let subsite;
  let stranger;
  before(async () => {
    browser = await launchBrowser();
    mock = await startMock();
    site = await startStaticServer();
    let streamUrl = '';
    subsite = await startStaticServer({
      base: '/notifications/',
      rewriteIndex: (html) => html.replace('<meta name="notifications-stream" content="">', `<meta name="notifications-stream" content="${streamUrl}">`),
    });
    stranger = await startStaticServer();
    bridge = await startBridge(mock, { allowOrigin: [site.url, subsite.url] });
    streamUrl = `${bridge.url}/events`;
  });
  after(async () => {
    await browser?.close();
    await bridge?.stop();
    await mock?.stop();
    await site?.close();
    await subsite?.close();
    await stranger?.close();
  });

  test('?stream= points the page at the bridge; the stream is read cross-origin, live', async () => {
    const { context, page, errors, requests } = await openPage(browser);
    try {
      const streamUrl = `${bridge.url}/events`;
      await page.goto(`${site.url}/?stream=${encodeURIComponent(streamUrl)}`);
      await waitForTexts(page, fixtureTexts());
      await waitForStatus(page, /^Live$/);
      await postNotification(mock, { service: 'DockerHub', group: 'docker', type: 'push', text: 'cross-origin live', link: '' });
      await waitForTexts(page, ['cross-origin live', ...fixtureTexts()]);
      const rec = await recorded(page);
      assert.equal(rec.urls.length, 1);
      assert.ok(rec.urls[0].startsWith(`${streamUrl}?`));
      assert.deepEqual(rec.cspViolations, []);
      // Only the two origins: the static site and the bridge's stream.
      const origins = new Set(requests.map((u) => new URL(u).origin));
      assert.deepEqual([...origins].sort(), [bridge.url, site.url].sort());
      assert.equal(await page.$eval('#filter-service', () => new URLSearchParams(location.search).get('stream')), streamUrl);
      // Filters keep ?stream= in the URL.
      await page.selectOption('#filter-service', 'DockerHub');
      await page.waitForFunction(() => new URLSearchParams(location.search).get('service') === 'DockerHub');
      assert.equal(new URL(page.url()).searchParams.get('stream'), streamUrl);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('the meta tag points the page at the bridge when it lives under /notifications/', async () => {
    const { context, page, errors } = await openPage(browser);
    try {
      await page.goto(`${subsite.url}/notifications/`);
      await waitForStatus(page, /^Live$/);
      await page.waitForFunction((n) => document.querySelectorAll('#notifications > li').length >= n, fixtureTexts().length);
      assert.ok((await recorded(page)).urls[0].startsWith(`${bridge.url}/events?`));
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('an origin the bridge does not list (--allow-origin) reads nothing', async () => {
    const { context, page } = await openPage(browser);
    try {
      await page.goto(`${stranger.url}/?stream=${encodeURIComponent(`${bridge.url}/events`)}`);
      await waitForStatus(page, /^Reconnecting in \d+ s…$/, 10000);
      assert.equal((await rowIds(page)).length, 0);
      assert.equal((await recorded(page)).overlaps, 0);
    } finally {
      await context.close();
    }
  });
});

// Missing binaries fail loudly rather than pass as skipped: a green run must
// mean the page was tried against the real servers.
if (skip) {
  test('prerequisites for the browser tests', () => {
    assert.fail(skip);
  });
}
