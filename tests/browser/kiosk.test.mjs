// The wall-screen mode, ?kiosk=1: no controls, larger type, newest at the
// top, and a banner saying since when the stream is down. Screenshots:
// build/page-kiosk.png (live) and build/page-kiosk-down.png (bridge down);
// copies are in docs/img/ for docs/page.md.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  REPO,
  ensureDir,
  fixtureTexts,
  launchBrowser,
  missingPrerequisite,
  openPage,
  postNotification,
  rowTexts,
  startBridge,
  startMock,
  waitForRows,
  waitForStatus,
} from './helpers.mjs';

const skip = missingPrerequisite();

describe('wall-screen mode', { skip: skip ?? false }, () => {
  let browser;
  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
  });

  test('?kiosk=1: no controls, larger type, newest first, a banner with the time the stream went down', async () => {
    const mock = await startMock();
    let bridge = await startBridge(mock);
    const { port } = bridge;
    const outDir = `${REPO}build`;
    ensureDir(outDir);
    const { context, page, errors } = await openPage(browser, { width: 1920, height: 1080 });
    const normal = await context.newPage();
    try {
      await page.goto(`${bridge.url}/?kiosk=1`);
      await normal.goto(`${bridge.url}/`);
      await waitForRows(page, fixtureTexts().length);
      // The normal tab too: its rows are compared below (it raced before).
      await waitForRows(normal, fixtureTexts().length);
      await waitForStatus(page, /^Live$/);
      assert.equal(await page.isHidden('#banner'), true, 'no banner while live');

      // No controls at all: nothing to click or type into.
      const controls = await page.$$eval('button, input, select, a[href]:not(.entry__href)', (els) =>
        els.filter((e) => e.getClientRects().length > 0).map((e) => e.id || e.className || e.tagName),
      );
      assert.deepEqual(controls, []);
      for (const hidden of ['#filters', '.toolbar', '.site-footer']) assert.equal(await page.isHidden(hidden), true, hidden);

      // Larger type than the normal page.
      const size = (p) => p.$eval('#notifications .entry__text', (e) => parseFloat(getComputedStyle(e).fontSize));
      const [kioskSize, normalSize] = [await size(page), await size(normal)];
      assert.ok(kioskSize >= normalSize * 1.3, `kiosk text ${kioskSize}px, normal ${normalSize}px`);

      // Newest at the top.
      await postNotification(mock, { service: 'Jenkins', group: 'ci', type: 'completed.success', text: 'Job deploy-website-infra build #413 succeeded', link: 'https://cd.nasqueron.org/job/deploy-website-infra/413/' });
      await waitForRows(page, fixtureTexts().length + 1);
      assert.equal((await rowTexts(page))[0], 'Job deploy-website-infra build #413 succeeded');
      await page.waitForTimeout(400); // the new row's slide-in
      await page.screenshot({ path: `${outDir}/page-kiosk.png` });

      // The bridge goes away: the banner says since when, and what the page does.
      const downAt = new Date();
      await bridge.stop('SIGKILL');
      await page.waitForSelector('#banner', { state: 'visible', timeout: 15000 });
      const text = await page.textContent('#banner-text');
      assert.match(text, /^Stream down since (\d\d):(\d\d):(\d\d) \(\d+ s\) · (Reconnecting|Offline)/);
      // The time shown is the page's local time of the moment the bridge went down.
      const skewMs = await page.evaluate(
        ([shownTime, at]) => {
          const [h, m, sec] = shownTime.split(':').map(Number);
          const d = new Date(at);
          d.setHours(h, m, sec, 0);
          return Math.abs(d.getTime() - at);
        },
        [text.match(/since (\d\d:\d\d:\d\d)/)[1], downAt.getTime()],
      );
      assert.ok(skewMs < 5000, `"${text}" is ${skewMs} ms away from when the bridge went down`);
      assert.equal((await rowTexts(page)).length, fixtureTexts().length + 1, 'the list stays');
      await page.screenshot({ path: `${outDir}/page-kiosk-down.png` });

      bridge = await startBridge(mock, { port });
      await waitForStatus(page, /^Live$/, 20000);
      await page.waitForSelector('#banner', { state: 'hidden', timeout: 5000 });
      assert.deepEqual(errors.filter((e) => !/ERR_CONNECTION_REFUSED|EventSource|Failed to load resource/.test(e)), []);
    } finally {
      await context.close();
      await bridge.stop();
      await mock.stop();
    }
  });
});

if (skip) {
  test('prerequisites for the browser tests', () => {
    assert.fail(skip);
  });
}
