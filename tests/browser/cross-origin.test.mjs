// The page published as plain files on another site (as on
// infra.nasqueron.org), reading the bridge's stream cross-origin: through
// ?stream= (to an origin the page's configuration allows), and through the
// <meta name="notifications-stream"> tag under a base path; a ?stream= link
// to an origin the page does not allow is refused before any request; an
// origin the bridge does not list gets nothing.
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
  let plain;
  before(async () => {
    browser = await launchBrowser();
    mock = await startMock();
    let streamUrl = '';
    let bridgeOrigin = '';
    // The deployment's allow-list for ?stream= (same-origin only when empty).
    const allowBridge = (html) =>
      html.replace('<meta name="notifications-stream-origins" content="">', `<meta name="notifications-stream-origins" content="${bridgeOrigin}">`);
    site = await startStaticServer({ rewriteIndex: allowBridge });
    subsite = await startStaticServer({
      base: '/notifications/',
      rewriteIndex: (html) => html.replace('<meta name="notifications-stream" content="">', `<meta name="notifications-stream" content="${streamUrl}">`),
    });
    stranger = await startStaticServer({ rewriteIndex: allowBridge });
    plain = await startStaticServer();
    bridge = await startBridge(mock, { allowOrigin: [site.url, subsite.url] });
    streamUrl = `${bridge.url}/events`;
    bridgeOrigin = bridge.url;
  });
  after(async () => {
    await browser?.close();
    await bridge?.stop();
    await mock?.stop();
    await site?.close();
    await subsite?.close();
    await stranger?.close();
    await plain?.close();
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

  test('a ?stream= link to an origin the page does not allow (same-origin by default) is refused: a message, no connection', async () => {
    const { context, page, errors, requests } = await openPage(browser);
    try {
      await page.goto(`${plain.url}/?stream=${encodeURIComponent(`${bridge.url}/events`)}`);
      await waitForStatus(page, /^Stream refused$/, 5000);
      const message = await page.textContent('#empty');
      assert.equal(
        message,
        `Refused: this link's ?stream= points the page at ${bridge.url}, which its configuration does not allow (allowed: ${plain.url}). Open the page without ?stream= to see its own notifications.`,
      );
      assert.equal(await page.isVisible('#empty'), true);
      await page.waitForTimeout(500);
      const rec = await recorded(page);
      assert.deepEqual(rec.urls, [], 'no EventSource was opened');
      assert.deepEqual(requests.filter((u) => new URL(u).origin === bridge.url), [], 'no request reached the other origin');
      assert.equal((await rowIds(page)).length, 0);
      // The same page without ?stream= is its own stream (none here: nothing to refuse).
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
