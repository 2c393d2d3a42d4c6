// The page recovers by itself when the bridge restarts: directly (the
// browser's own EventSource reconnection) and behind a proxy that answers
// 502 meanwhile (the EventSource gives up for good; the page's backoff
// reopens it with lastEventId). Either way: no loss, no duplicate, one
// stream at a time.
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
  rowTexts,
  startBridge,
  startMock,
  startProxy,
  waitForRows,
  waitForStatus,
  waitForTexts,
} from './helpers.mjs';

const skip = missingPrerequisite();

async function post(mock, text) {
  const { id } = await postNotification(mock, { service: 'GitHub', group: 'ops', type: 'push', text, link: '' });
  return id;
}

describe('recovery after a bridge restart', { skip: skip ?? false }, () => {
  let browser;
  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
  });

  test('bridge killed and restarted on the same port: the page resumes with neither loss nor duplicate', async () => {
    // --overlap: the API re-serves items the bridge already has, as after a failover.
    const mock = await startMock({ extra: ['--overlap', '2'] });
    let bridge = await startBridge(mock);
    const port = bridge.port;
    const { context, page, errors } = await openPage(browser);
    try {
      await page.goto(`${bridge.url}/`);
      await waitForRows(page, fixtureTexts().length);
      await waitForStatus(page, /^Live$/);
      const ids = [await post(mock, 'before 1')];
      await waitForRows(page, fixtureTexts().length + 1);

      await bridge.stop('SIGKILL');
      await waitForStatus(page, /^Reconnecting/);
      ids.push(await post(mock, 'while down 1'), await post(mock, 'while down 2'));
      await page.waitForTimeout(1000);

      bridge = await startBridge(mock, { port });
      assert.equal(bridge.port, port);
      await waitForStatus(page, /^Live$/, 20000);
      ids.push(await post(mock, 'after 1'));
      await waitForRows(page, fixtureTexts().length + 4, 10000);
      await page.waitForTimeout(1500); // anything extra (a duplicate) would show up by now

      const texts = await rowTexts(page);
      assert.deepEqual(texts, ['after 1', 'while down 2', 'while down 1', 'before 1', ...fixtureTexts()]);
      const shown = await rowIds(page);
      assert.deepEqual(shown.slice(0, 4), [...ids].reverse());
      assert.equal(new Set(shown).size, shown.length);
      const rec = await recorded(page);
      assert.equal(rec.overlaps, 0);
      assert.ok(rec.open <= 1);
      assert.deepEqual(errors.filter((e) => !/ERR_CONNECTION_REFUSED|EventSource|Failed to load resource/.test(e)), []);
    } finally {
      await context.close();
      await bridge.stop();
      await mock.stop();
    }
  });

  test('behind a proxy answering 502 while the bridge is down: the page reopens the stream itself with backoff and lastEventId', async () => {
    const mock = await startMock();
    let bridge = await startBridge(mock);
    const port = bridge.port;
    const proxy = await startProxy(() => port);
    const { context, page, errors } = await openPage(browser);
    try {
      await page.goto(`${proxy.url}/`);
      await waitForRows(page, fixtureTexts().length);
      await waitForStatus(page, /^Live$/);
      const ids = [await post(mock, 'before 1')];
      await waitForRows(page, fixtureTexts().length + 1);

      await bridge.stop('SIGKILL');
      // The stream ends, the browser retries, gets a 502 and gives up: the
      // page shows its own countdown.
      await waitForStatus(page, /^Reconnecting in \d+ s…$/, 20000);
      ids.push(await post(mock, 'while down 1'), await post(mock, 'while down 2'));
      let rec = await recorded(page);
      const opened = rec.urls.length;

      bridge = await startBridge(mock, { port });
      await waitForStatus(page, /^Live$/, 40000);
      ids.push(await post(mock, 'after 1'));
      await waitForRows(page, fixtureTexts().length + 4, 10000);
      await page.waitForTimeout(1500);

      assert.deepEqual(await rowTexts(page), ['after 1', 'while down 2', 'while down 1', 'before 1', ...fixtureTexts()]);
      const shown = await rowIds(page);
      assert.deepEqual(shown.slice(0, 4), [...ids].reverse());
      assert.equal(new Set(shown).size, shown.length);

      rec = await recorded(page);
      assert.ok(rec.urls.length > opened || opened > 1, 'the page opened a new EventSource itself');
      const reopened = rec.urls.slice(1);
      assert.ok(reopened.length >= 1);
      for (const url of reopened) assert.equal(new URL(url).searchParams.get('lastEventId'), ids[0]);
      assert.equal(rec.overlaps, 0, 'never two EventSources open at once');
      assert.equal(rec.open, 1);
      assert.deepEqual(errors.filter((e) => !/502|EventSource|Failed to load resource/.test(e)), []);
    } finally {
      await context.close();
      await proxy.close();
      await bridge.stop();
      await mock.stop();
    }
  });

  test('bridge and delivery API both restarted (old ids forgotten): the reset event replaces the list', async () => {
    let mock = await startMock();
    let bridge = await startBridge(mock);
    const ports = [mock.port, bridge.port];
    const { context, page, errors } = await openPage(browser);
    try {
      await page.goto(`${bridge.url}/`);
      await waitForRows(page, fixtureTexts().length);
      await post(mock, 'forgotten');
      await waitForRows(page, fixtureTexts().length + 1);
      const oldIds = await rowIds(page);
      await bridge.stop('SIGKILL');
      await mock.stop('SIGKILL');
      // A new mock numbers from a new start time: nobody knows the old ids.
      await new Promise((r) => setTimeout(r, 1100));
      mock = await startMock({ port: ports[0] });
      bridge = await startBridge(mock, { port: ports[1] });
      await waitForTexts(page, fixtureTexts(), 30000);
      await waitForStatus(page, /^Live$/);
      assert.equal(await page.isVisible('#notice'), true);
      assert.match(await page.textContent('#notice-text'), /reset/);
      const newIds = await rowIds(page);
      assert.equal(newIds.filter((id) => oldIds.includes(id)).length, 0);
      await post(mock, 'after reset');
      await waitForTexts(page, ['after reset', ...fixtureTexts()]);
      await page.click('#notice-dismiss');
      assert.equal(await page.isHidden('#notice'), true);
      assert.equal((await recorded(page)).overlaps, 0);
      assert.deepEqual(errors.filter((e) => !/ERR_CONNECTION_REFUSED|EventSource|Failed to load resource/.test(e)), []);
    } finally {
      await context.close();
      await bridge.stop();
      await mock.stop();
    }
  });

  test('coming back online retries at once', async () => {
    const mock = await startMock();
    let bridge = await startBridge(mock);
    const port = bridge.port;
    const proxy = await startProxy(() => port);
    const { context, page } = await openPage(browser);
    try {
      await page.goto(`${proxy.url}/`);
      await waitForRows(page, fixtureTexts().length);
      await bridge.stop('SIGKILL');
      await waitForStatus(page, /^Reconnecting in \d+ s…$/, 20000);
      // Let the backoff grow past a few seconds, then bring the bridge back
      // and tell the page the network is back.
      for (let i = 0; i < 3; i += 1) {
        const before = (await recorded(page)).urls.length;
        await page.waitForFunction((n) => window.__nb.urls.length > n, before, { timeout: 20000 });
      }
      bridge = await startBridge(mock, { port });
      const started = Date.now();
      await page.evaluate(() => window.dispatchEvent(new Event('online')));
      await waitForStatus(page, /^Live$/, 5000);
      assert.ok(Date.now() - started < 3000, 'reconnected without waiting for the backoff');
      assert.equal((await recorded(page)).overlaps, 0);
      assert.equal((await rowIds(page)).length, fixtureTexts().length);
    } finally {
      await context.close();
      await proxy.close();
      await bridge.stop();
      await mock.stop();
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
