// Filters (server-side through the URL, client-side free text), a bookmarked
// URL, pause/resume, clear, the unseen count in the title and desktop
// notifications.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  fixtureTexts,
  fixtures,
  launchBrowser,
  missingPrerequisite,
  openPage,
  postNotification,
  recorded,
  rowTexts,
  startBridge,
  startMock,
  waitForRows,
  waitForStatus,
  waitForTexts,
} from './helpers.mjs';

const skip = missingPrerequisite();

const textsOf = (pred) =>
  fixtures()
    .filter(pred)
    .map((f) => f.text ?? '(no text)')
    .reverse();

describe('controls', { skip: skip ?? false }, () => {
  let browser;
  let mock;
  let bridge;
  before(async () => {
    browser = await launchBrowser();
    mock = await startMock();
    bridge = await startBridge(mock);
  });
  after(async () => {
    await browser?.close();
    await bridge?.stop();
    await mock?.stop();
  });

  // Two ways to the same view: the tabs' shared stream (Chromium has
  // BroadcastChannel and Web Locks: one unfiltered stream, filters applied in
  // the page) and the fallback without them (the bridge filters the stream,
  // a filter change reopens it).
  const posted = []; // by the tests below, oldest first: the mock keeps them for the next test
  const post = async (n) => {
    await postNotification(mock, n);
    posted.push(n);
  };
  const postedTexts = (pred) => posted.filter(pred).map((n) => n.text).reverse();

  for (const shared of [true, false]) {
    const mode = shared ? 'shared stream' : 'one stream per tab';

    test(`${mode}: a bookmarked ?service=Jenkins shows only Jenkins; changing filters rewrites the URL`, async () => {
      const { context, page, errors } = await openPage(browser, { share: shared });
      try {
        await page.goto(`${bridge.url}/?service=Jenkins`);
        const jenkins = [...postedTexts((n) => n.service === 'Jenkins'), ...textsOf((f) => f.service === 'Jenkins')];
        await waitForTexts(page, jenkins);
        await waitForStatus(page, /^Live$/);
        assert.equal(await page.$eval('#filter-service', (s) => s.value), 'Jenkins');
        let rec = await recorded(page);
        const first = new URL(rec.urls[0]).searchParams;
        assert.deepEqual(first.getAll('service'), shared ? [] : ['Jenkins']);
        assert.equal(first.get('backlog'), shared ? '500' : '100');

        // A GitHub notification is never shown; a Jenkins one is.
        await post({ service: 'GitHub', group: 'ops', type: 'push', text: `filtered out ${mode}`, link: '' });
        await post({ service: 'Jenkins', group: 'ci', type: 'started', text: `jenkins live ${mode}`, link: '' });
        await waitForTexts(page, [`jenkins live ${mode}`, ...jenkins]);

        // Choose GitHub: the URL changes; the list starts again with the new filter.
        await page.selectOption('#filter-service', 'GitHub');
        await page.waitForFunction(() => new URLSearchParams(location.search).get('service') === 'GitHub');
        const github = [...postedTexts((n) => n.service === 'GitHub'), ...textsOf((f) => f.service === 'GitHub')];
        await waitForTexts(page, github);
        rec = await recorded(page);
        if (shared) {
          assert.equal(rec.urls.length, 1, 'the shared stream is not reopened: the page filters what it has');
        } else {
          assert.equal(rec.urls.length, 2);
          const reopened = new URL(rec.urls[1]).searchParams;
          assert.deepEqual(reopened.getAll('service'), ['GitHub']);
          assert.equal(reopened.get('backlog'), '100');
          assert.equal(reopened.get('lastEventId'), null);
        }
        assert.equal(rec.overlaps, 0);
        const streams = rec.urls.length;

        // Free text is client-side: URL has q, no new stream.
        await page.fill('#filter-q', 'pull request');
        await page.waitForFunction(() => new URLSearchParams(location.search).get('q') === 'pull request');
        await waitForRows(page, 1);
        assert.match((await rowTexts(page))[0], /opened pull request #58/);
        assert.equal((await recorded(page)).urls.length, streams);
        assert.match(await page.textContent('#count'), /1 of \d+ notifications match/);

        // Group "(no group)" is group= in the URL (and on the stream, unless shared).
        await page.fill('#filter-q', '');
        await page.selectOption('#filter-group', '__none__');
        await page.waitForFunction(() => new URLSearchParams(location.search).has('group'));
        assert.equal(new URL(page.url()).searchParams.get('group'), '');
        await waitForTexts(page, ['dereckson pushed 1 commit to sandbox (master)']);

        // Reset: no filter in the URL, everything back (what each test posted too).
        await page.click('#filter-reset');
        await page.waitForFunction(() => location.search === '');
        await page.waitForFunction((n) => document.querySelectorAll('#notifications > li').length >= n, fixtureTexts().length + 2);
        const texts = await rowTexts(page);
        assert.deepEqual(texts.slice(0, 2), [`jenkins live ${mode}`, `filtered out ${mode}`]);
        assert.equal((await recorded(page)).overlaps, 0);
        assert.deepEqual(errors, []);
      } finally {
        await context.close();
      }
    });

    test(`${mode}: a bookmarked view with several filters and free text`, async () => {
      const { context, page } = await openPage(browser, { share: shared });
      try {
        await page.goto(`${bridge.url}/?project=Nasqueron&group=docker&q=etherpad`);
        await waitForTexts(page, ['Image build by Docker Hub registry failure: nasqueron/etherpad']);
        assert.equal(await page.inputValue('#filter-q'), 'etherpad');
        assert.equal(await page.inputValue('#filter-project'), 'Nasqueron');
        assert.equal(await page.$eval('#filter-group', (s) => s.value), 'docker');
        const stream = new URL((await recorded(page)).urls[0]).searchParams;
        assert.deepEqual([stream.get('project'), stream.get('group'), stream.get('q')], shared ? [null, null, null] : ['Nasqueron', 'docker', null]);
      } finally {
        await context.close();
      }
    });
  }

  test('pause buffers new notifications with a visible count; resume shows them; clear empties the list', async () => {
    const { context, page } = await openPage(browser);
    try {
      await page.goto(`${bridge.url}/?q=pausetest`);
      await waitForStatus(page, /^Live$/);
      await postNotification(mock, { service: 'GitHub', group: 'ops', type: 'push', text: 'pausetest 1', link: '' });
      await waitForRows(page, 1);
      await page.click('#pause');
      assert.equal(await page.textContent('#pause'), 'Resume');
      for (const i of [2, 3, 4]) {
        await postNotification(mock, { service: 'GitHub', group: 'ops', type: 'push', text: `pausetest ${i}`, link: '' });
      }
      await page.waitForFunction(() => document.getElementById('new-count').textContent === '3 new' && !document.getElementById('new-count').hidden, null, { timeout: 5000 });
      assert.deepEqual(await rowTexts(page), ['pausetest 1']);
      await page.click('#new-count');
      await waitForTexts(page, ['pausetest 4', 'pausetest 3', 'pausetest 2', 'pausetest 1']);
      assert.equal(await page.isHidden('#new-count'), true);
      assert.equal(await page.textContent('#pause'), 'Pause');

      // Pause with the button, resume with the button too.
      await page.click('#pause');
      await postNotification(mock, { service: 'GitHub', group: 'ops', type: 'push', text: 'pausetest 5', link: '' });
      await page.waitForFunction(() => document.getElementById('new-count').textContent === '1 new');
      await page.click('#pause');
      await waitForRows(page, 5);

      await page.click('#clear');
      await waitForRows(page, 0);
      assert.equal(await page.isVisible('#empty'), true);
      await postNotification(mock, { service: 'GitHub', group: 'ops', type: 'push', text: 'pausetest 6', link: '' });
      await waitForTexts(page, ['pausetest 6']);
    } finally {
      await context.close();
    }
  });

  test('unseen count in the title while hidden; desktop notifications only after a click, only while hidden', async () => {
    const { context, page } = await openPage(browser);
    try {
      await page.goto(`${bridge.url}/?q=titletest`);
      await waitForStatus(page, /^Live$/);
      // What arrives in the first 2 s of a fresh stream is the backlog: no
      // desktop notification for it. Wait until live news can be told apart.
      await page.waitForTimeout(2100);
      assert.equal(await page.title(), 'Nasqueron notifications');
      assert.equal((await recorded(page)).permissionRequests, 0, 'no permission asked on load');
      await page.click('#desktop');
      await page.waitForFunction(() => document.getElementById('desktop').getAttribute('aria-pressed') === 'true');
      assert.equal((await recorded(page)).permissionRequests, 1);

      await postNotification(mock, { service: 'GitHub', group: 'ops', type: 'push', text: 'titletest visible', link: '' });
      await waitForRows(page, 1);
      await page.evaluate(() => window.__nbSetHidden(true));
      await postNotification(mock, { service: 'Jenkins', group: 'ci', type: 'started', text: 'titletest hidden 1', link: '' });
      await postNotification(mock, { service: 'GitHub', group: 'ops', type: 'push', text: 'not counted', link: '' });
      await postNotification(mock, { service: 'Jenkins', group: 'ci', type: 'started', text: 'titletest hidden 2', link: '' });
      await page.waitForFunction(() => document.title === '(2) Nasqueron notifications', null, { timeout: 5000 });
      await page.waitForFunction(() => window.__nb.desktop.length > 0, null, { timeout: 5000 });
      await page.waitForTimeout(1200);
      const desktop = (await recorded(page)).desktop;
      const bodies = desktop.map((d) => `${d.title} | ${d.body}`).join('\n');
      assert.match(bodies, /titletest hidden 1/);
      assert.match(bodies, /titletest hidden 2/);
      assert.doesNotMatch(bodies, /titletest visible|not counted/);

      await page.evaluate(() => window.__nbSetHidden(false));
      await page.waitForFunction(() => document.title === 'Nasqueron notifications');
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
