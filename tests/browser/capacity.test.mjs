// A real browser turned away at --max-clients comes back by itself: the
// bridge answers 200 + retry: + end (a 503 would stop its EventSource for
// good), so Chromium's own EventSource reconnects after `retry`.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';

import {
  fixtureTexts,
  launchBrowser,
  missingPrerequisite,
  openPage,
  postNotification,
  recorded,
  startBridge,
  startMock,
  waitForRows,
  waitForStatus,
} from './helpers.mjs';

const skip = missingPrerequisite();

/** Opens a stream with Node's HTTP client; resolves once its headers are in. */
function holdStream(url) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, (res) => {
      res.on('data', () => {});
      resolve(req);
    });
    req.on('error', reject);
  });
}

describe('capacity', { skip: skip ?? false }, () => {
  let browser;
  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
  });

  test('a page turned away at --max-clients retries by itself and goes live once a slot frees', async () => {
    const mock = await startMock();
    const bridge = await startBridge(mock, { extra: ['--max-clients', '1', '--busy-retry', '0.5', '--heartbeat', '1'] });
    const holder = await holdStream(`${bridge.url}/events`);
    const { context, page } = await openPage(browser);
    try {
      await page.goto(`${bridge.url}/`);
      // Turned away: the browser keeps the same EventSource and reconnects
      // after the short busy retry; it never reaches the CLOSED state.
      await page.waitForTimeout(1500);
      const whileFull = await recorded(page);
      assert.equal(whileFull.open, 1, 'the EventSource is still open (reconnecting), not CLOSED');
      assert.equal(whileFull.urls.length, 1);
      const turnedAway = await (await fetch(`${bridge.url}/metrics`)).text();
      assert.match(turnedAway, /notifications_bridge_streams_rejected_total [1-9]/);
      holder.destroy();
      try {
        await waitForStatus(page, /^Live$/, 10000);
      } catch (e) {
        const status = await page.evaluate(() => document.getElementById('status-text').textContent);
        const metrics = await (await fetch(`${bridge.url}/metrics`)).text();
        throw new Error(`${e.message}; status "${status}"; ${metrics.match(/clients_connected \d+/)} ${metrics.match(/streams_rejected_total \d+/)}; ${JSON.stringify(await recorded(page))}`);
      }
      const rec = await recorded(page);
      assert.equal(rec.urls.length, 1, 'the page did not need to open a second EventSource');
      const posted = await postNotification(mock, {
        service: 'GitHub', group: 'ops', type: 'push', text: 'after the crowd',
      });
      assert.ok(posted.id);
      // The fixtures' backlog, then the new one.
      await waitForRows(page, fixtureTexts().length + 1);
    } finally {
      await context.close();
      await bridge.stop();
      await mock.stop();
    }
  });
});

// Missing binaries fail loudly rather than pass as skipped: a green run must
// mean the capacity behaviour was tried against the real servers.
if (skip) {
  test('prerequisites for the browser tests', () => {
    assert.fail(skip);
  });
}
