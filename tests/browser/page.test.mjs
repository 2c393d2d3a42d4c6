// The page against the real bridge and mock API: backlog, live arrival,
// hostile data, status, accessibility basics, screenshots.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  POLL_INTERVAL_S,
  REPO,
  ensureDir,
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
  waitForRows,
  waitForStatus,
} from './helpers.mjs';

const skip = missingPrerequisite();

describe('the page served by the bridge', { skip: skip ?? false }, () => {
  let browser;
  let mock;
  let bridge;

  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
  });

  async function servers() {
    mock = await startMock();
    bridge = await startBridge(mock);
  }
  async function stopServers() {
    await bridge?.stop();
    await mock?.stop();
  }

  test('opens with the backlog (the fixtures), newest first, then shows live notifications within the poll interval', async () => {
    await servers();
    const { context, page, errors } = await openPage(browser);
    try {
      await page.goto(`${bridge.url}/`);
      const expected = fixtureTexts();
      await waitForRows(page, expected.length);
      assert.deepEqual(await rowTexts(page), expected);
      await waitForStatus(page, /^Live$/);
      const rec = await recorded(page);
      assert.equal(rec.urls.length, 1);
      // One stream shared by the page's tabs: unfiltered, as much backlog as a tab keeps.
      assert.match(rec.urls[0], /\/events\?backlog=500$/);

      // Badges, project / group, type, time, link.
      const first = await page.$eval('#notifications > li:last-child', (li) => ({
        badge: li.querySelector('.badge').textContent,
        badgeClass: li.querySelector('.badge').className,
        origin: li.querySelector('.entry__origin').textContent,
        type: li.querySelector('.entry__type').textContent,
        datetime: li.querySelector('time').getAttribute('datetime'),
        title: li.querySelector('time').getAttribute('title'),
        href: li.querySelector('a').getAttribute('href'),
        rel: li.querySelector('a').getAttribute('rel'),
        target: li.querySelector('a').getAttribute('target'),
      }));
      assert.equal(first.badge, 'GitHub');
      assert.match(first.badgeClass, /badge--github/);
      assert.equal(first.origin, 'Nasqueron / ops');
      assert.equal(first.type, 'push');
      assert.ok(!Number.isNaN(Date.parse(first.datetime)));
      assert.match(first.title, /^(just now|\d+ s ago) · /);
      assert.equal(first.href, 'https://github.com/nasqueron/operations/compare/6f1c1b1e2a4d...a3b2e0c4d5f6');
      assert.equal(first.rel, 'noopener noreferrer');
      assert.equal(first.target, '_blank');
      const badges = await page.$$eval('#notifications .badge', (els) => [...new Set(els.map((e) => e.className))].sort());
      assert.deepEqual(badges, ['badge badge--dockerhub', 'badge badge--github', 'badge badge--jenkins', 'badge badge--phabricator']);
      // Phabricator links are "": no link line at all.
      const phab = await page.$eval('#notifications > li:first-child', (li) => li.querySelector('.entry__link'));
      assert.equal(phab, null);

      const before = Date.now();
      const { id } = await postNotification(mock, {
        service: 'Jenkins',
        group: 'ci',
        type: 'completed.success',
        text: 'live arrival',
        link: 'https://cd.nasqueron.org/job/x/1/',
      });
      await page.waitForFunction(() => document.querySelector('#notifications > li .entry__text')?.textContent === 'live arrival', null, {
        timeout: 5000,
        polling: 20,
      });
      const latency = Date.now() - before;
      assert.ok(latency < POLL_INTERVAL_S * 1000 + 1000, `arrived after ${latency} ms`);
      assert.equal((await rowIds(page))[0], id);
      assert.equal((await rowIds(page)).length, expected.length + 1);
      assert.deepEqual(errors, []);
      assert.deepEqual((await recorded(page)).cspViolations, []);
    } finally {
      await context.close();
      await stopServers();
    }
  });

  test('hostile text and links are shown as text: no dialog, no request, no clickable javascript: link', async () => {
    await servers();
    const { context, page, errors, dialogs, requests } = await openPage(browser);
    try {
      await page.goto(`${bridge.url}/`);
      await waitForRows(page, fixtureTexts().length);
      const hostile = '<img src=x onerror=alert(1)>';
      await postNotification(mock, { service: '<b>GitHub</b>', group: '<i>ops</i>', type: '<script>alert(2)</script>', text: hostile, link: 'javascript:alert(1)' });
      await postNotification(mock, { service: 'GitHub', group: 'ops', type: 'push', text: 'data link', link: 'data:text/html,<script>alert(3)</script>' });
      await waitForRows(page, fixtureTexts().length + 2);
      const rows = await page.$$eval('#notifications > li', (els) =>
        els.slice(0, 2).map((li) => ({
          text: li.querySelector('.entry__text').textContent,
          badge: li.querySelector('.badge').textContent,
          type: li.querySelector('.entry__type').textContent,
          anchors: li.querySelectorAll('a').length,
          plain: li.querySelector('.entry__href--plain')?.textContent,
          elements: [...li.querySelectorAll('img, script, b, i')].length,
        })),
      );
      assert.deepEqual(rows[1], {
        text: hostile,
        badge: '<b>GitHub</b>',
        type: '<script>alert(2)</script>',
        anchors: 0,
        plain: 'javascript:alert(1)',
        elements: 0,
      });
      assert.equal(rows[0].anchors, 0);
      assert.equal(rows[0].plain, 'data:text/html,<script>alert(3)</script>');
      await page.waitForTimeout(500); // let any onerror fire, were it there
      assert.deepEqual(dialogs, []);
      assert.deepEqual(
        requests.filter((u) => /\/x(\?|$)/.test(new URL(u).pathname) || u.startsWith('javascript:')),
        [],
      );
      assert.equal(await page.$$eval('img:not(.brand__logo)', (els) => els.length), 0);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
      await stopServers();
    }
  });

  test('accessible structure: list, time, live region, labelled controls, keyboard operable, no horizontal scroll at 360 px', async () => {
    await servers();
    const { context, page, errors } = await openPage(browser, { width: 360, height: 780 });
    try {
      await page.goto(`${bridge.url}/`);
      await waitForRows(page, fixtureTexts().length);
      assert.equal(await page.$$eval('ol#notifications > li time[datetime]', (els) => els.length), fixtureTexts().length);
      assert.ok((await page.$$('[aria-live="polite"]')).length >= 1);
      const unlabelled = await page.$$eval('input, select', (els) =>
        els.filter((e) => !(e.labels && e.labels.length > 0 && e.labels[0].textContent.trim())).map((e) => e.id),
      );
      assert.deepEqual(unlabelled, []);
      const buttons = await page.$$eval('button', (els) => els.filter((b) => !b.textContent.trim()).length);
      assert.equal(buttons, 0);
      const scroll = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(scroll <= 360, `page is ${scroll} px wide at 360 px`);

      // Keyboard: focus the Pause button and press it; focus is visible.
      await page.focus('#pause');
      const outline = await page.$eval('#pause', (b) => getComputedStyle(b).outlineStyle);
      assert.notEqual(outline, 'none');
      await page.keyboard.press('Enter');
      await page.waitForFunction(() => document.getElementById('pause').textContent === 'Resume');
      await page.keyboard.press('Space');
      await page.waitForFunction(() => document.getElementById('pause').textContent === 'Pause');
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
      await stopServers();
    }
  });

  test('the list is capped at 500 rows, the oldest dropped', async () => {
    await servers();
    const { context, page, errors } = await openPage(browser);
    try {
      await page.goto(`${bridge.url}/`);
      await waitForRows(page, fixtureTexts().length);
      for (let i = 1; i <= 500; i += 1) {
        await postNotification(mock, { service: 'Jenkins', group: 'ci', type: 'started', text: `cap ${i}`, link: '' });
      }
      await page.waitForFunction(() => document.querySelector('#notifications > li .entry__text')?.textContent === 'cap 500', null, {
        timeout: 20000,
      });
      // Rows are built newest first, in slices: the list completes over a few frames.
      await waitForRows(page, 500, 20000);
      await page.waitForTimeout(300); // and grows no further
      const texts = await rowTexts(page);
      assert.equal(texts.length, 500);
      assert.equal(texts.at(-1), 'cap 1');
      assert.match(await page.textContent('#count'), /500 notifications \(the latest 500 are kept\)/);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
      await stopServers();
    }
  });

  test('screenshots with the fixtures, 1280 px and 360 px wide', async () => {
    await servers();
    const outDir = `${REPO}build`;
    ensureDir(outDir);
    try {
      for (const [width, height, file] of [
        [1280, 1000, 'page-fixtures.png'],
        [360, 1400, 'page-mobile.png'],
      ]) {
        const { context, page } = await openPage(browser, { width, height });
        try {
          await page.goto(`${bridge.url}/`);
          await waitForRows(page, fixtureTexts().length);
          await waitForStatus(page, /^Live$/);
          await page.waitForTimeout(400); // row entrance animation
          await page.screenshot({ path: `${outDir}/${file}`, fullPage: false });
        } finally {
          await context.close();
        }
      }
    } finally {
      await stopServers();
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
