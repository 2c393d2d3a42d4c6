// A day on a wall screen, simulated in under a minute: 24 hours of
// notifications at 1 per second (86,400, from the mock's generator at 4,000
// per second, NB_DAY_RATE, through the real bridge), while the page's clock
// (Playwright's fake clock) is moved forward 24 hours in 24 jumps of an hour
// (each fires the timers due, like a laptop waking up) and the bridge is
// restarted three times (SIGTERM, same port). Each step lets the mock
// generate 1/24 of the day, then pauses it (SIGSTOP) while the page
// settles, its clock jumps and the heap and DOM are measured. The page is never reloaded; its JS
// heap (after a forced GC) and DOM node count stay flat; it is live at the
// end, in order, without duplicates; "N min ago" labels still move.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  launchBrowser,
  missingPrerequisite,
  openPage,
  rowIds,
  sleep,
  startBridge,
  startMock,
  waitForRows,
  waitForStatus,
} from './helpers.mjs';

const skip = missingPrerequisite();
const DAY = 86400; // notifications: one per second for 24 h
const RATE = Number(process.env.NB_DAY_RATE || 4000); // generated per real second
const STEPS = Number(process.env.NB_DAY_STEPS || 24); // steps of 1/24 of the day: 3,600 notifications, then the clock jumps 1 h
const RESTARTS_AT = [6, 12, 18].map((h) => Math.round((h * STEPS) / 24)); // the bridge restarts at 6 h, 12 h, 18 h
const MAX_ROWS = 500;
const MiB = 1024 * 1024;

const compareIds = (a, b) => (a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0);

describe('a day on a wall screen', { skip: skip ?? false }, () => {
  let browser;
  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
  });

  test(`${DAY} notifications and 24 h of clock, bridge restarted ${RESTARTS_AT.length} times: heap and DOM flat, live, no reload`, async () => {
    const mock = await startMock({ extra: ['--generate', String(RATE), '--log-level', 'warn'] });
    const bridgeOptions = { pollInterval: 0.1, extra: ['--page-limit', '1000', '--retry', '0.3', '--log-level', 'warn'] };
    let bridge = await startBridge(mock, bridgeOptions);
    mock.child.kill('SIGSTOP'); // the day starts with the first step
    const { port } = bridge;
    const { context, page, errors } = await openPage(browser);
    try {
      await context.clock.install();
      await page.goto(`${bridge.url}/?kiosk=1`);
      await waitForStatus(page, /^Live$/);
      await page.evaluate(() => {
        window.__nbSameDocument = true; // gone if the page ever reloads
      });
      const cdp = await context.newCDPSession(page);
      await cdp.send('HeapProfiler.enable');
      const sample = async (step) => {
        // Once the list is built (rows come in slices after a render).
        if (step > 0) await waitForRows(page, MAX_ROWS, 30000);
        await cdp.send('HeapProfiler.collectGarbage');
        const heap = await cdp.send('Runtime.getHeapUsage');
        const dom = await cdp.send('Memory.getDOMCounters');
        const received = await page.evaluate(() => window.__nb.received);
        return { step, received, heapMiB: heap.usedSize / MiB, nodes: dom.nodes, listeners: dom.jsEventListeners };
      };

      const received = () => page.evaluate(() => window.__nb.received);
      const samples = [await sample(0)];
      const timing = { generate: 0, settle: 0, clock: 0, restart: 0, sample: 0 };
      const timed = async (what, fn) => {
        const t = Date.now();
        const r = await fn();
        timing[what] += Date.now() - t;
        return r;
      };
      const started = Date.now();
      const base = await received();
      const settle = () =>
        timed('settle', async () => {
          let last = -1;
          for (let now = await received(); now !== last; now = await received()) {
            last = now;
            await sleep(60);
          }
        });
      for (let step = 1; step <= STEPS; step += 1) {
        // 1/24 of the day: the mock generates for 3,600 / RATE s...
        mock.child.kill('SIGCONT');
        if (RESTARTS_AT.includes(step)) {
          await timed('restart', async () => {
            await bridge.stop('SIGTERM');
            bridge = await startBridge(mock, { ...bridgeOptions, port });
          });
        }
        await timed('generate', () => sleep(((DAY / STEPS) * 1000) / RATE));
        // ...then pauses (a stopped mock: the bridge's poll just waits), the
        // page takes in what is in flight, and an hour passes on its clock.
        mock.child.kill('SIGSTOP');
        await settle();
        await timed('clock', () => page.clock.fastForward((24 * 3600 * 1000) / STEPS));
        if (step % Math.max(1, Math.round(STEPS / 12)) === 0) samples.push(await timed('sample', () => sample(step)));
      }
      // Top up to a whole day's count (the generator's pace is approximate).
      while ((await received()) - base < DAY) {
        mock.child.kill('SIGCONT');
        await sleep(200);
        mock.child.kill('SIGSTOP');
        await settle();
      }
      const elapsed = Date.now() - started;
      // Live at the end. (Under a flood on a busy machine the bridge may have
      // cut the page as a slow reader, at its 1 MiB bound; the page resumes
      // after its last id, which needs the mock running to fetch the gap.)
      mock.child.kill('SIGCONT');
      await waitForStatus(page, /^Live$/, 40000);
      mock.child.kill('SIGSTOP'); // paused for the checks below
      await settle();
      const metrics = await (await fetch(`${bridge.url}/metrics`)).text();
      const opened = metrics.match(/^notifications_bridge_streams_opened_total (\d+)/m)?.[1];

      // Flat: after the first simulated hours, neither the heap nor the DOM
      // grows. A sample may catch removed rows the browser still holds until
      // its next frame: the trend is judged on medians, the peaks loosely.
      const table = samples.map(
        (s) => `${String(Math.round((s.step * 24) / STEPS)).padStart(2)} h: ${String(s.received).padStart(6)} received, heap ${s.heapMiB.toFixed(2)} MiB, ${s.nodes} DOM nodes, ${s.listeners} listeners`,
      );
      if (process.env.NB_DEBUG_DAY) console.log(JSON.stringify(timing));
      console.log(
        `day: ${samples.at(-1).received - base} notifications (generated at ${RATE}/s), 24 h of clock, in ${(elapsed / 1000).toFixed(1)} s; ` +
          `streams opened on the last bridge: ${opened}\n${table.join('\n')}`,
      );
      const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
      const day = samples.slice(1); // from 2 h on: the list is full
      const [early, late] = [day.slice(0, 4), day.slice(-4)];
      const heap = (list) => median(list.map((x) => x.heapMiB));
      const nodes = (list) => median(list.map((x) => x.nodes));
      assert.ok(heap(late) <= heap(early) * 1.15 + 0.5, `heap: ${heap(early).toFixed(2)} MiB early, ${heap(late).toFixed(2)} MiB late:\n${table.join('\n')}`);
      assert.ok(Math.max(...day.map((x) => x.heapMiB)) <= heap(early) * 2 + 1, `heap peak:\n${table.join('\n')}`);
      assert.ok(nodes(late) <= nodes(early) * 1.1 + 200, `DOM nodes: ${nodes(early)} early, ${nodes(late)} late:\n${table.join('\n')}`);
      assert.ok(Math.max(...day.map((x) => x.nodes)) <= nodes(early) * 2, `DOM peak:\n${table.join('\n')}`);
      const listeners = (list) => Math.max(...list.map((x) => x.listeners));
      assert.ok(listeners(late) <= listeners(early) + 10, `event listeners grew from ${listeners(early)} to ${listeners(late)}`);
      assert.ok(samples.at(-1).received - base >= DAY, `${samples.at(-1).received - base} received`);

      // Never reloaded; one stream open; the list full, newest first, no duplicate.
      // (A reload would have dropped the marker; Playwright's fake clock also
      // fakes `performance`, so its navigation entries cannot tell.)
      assert.equal(await page.evaluate(() => window.__nbSameDocument), true, 'the page was reloaded');
      const sourcesState = await page.evaluate(() => ({
        states: window.__nb.sources.map((s) => s.readyState),
        urls: window.__nb.urls.slice(-3),
        status: document.getElementById('status-text').textContent,
      }));
      assert.equal(sourcesState.states.filter((st) => st !== 2).length, 1, JSON.stringify(sourcesState));
      await waitForRows(page, MAX_ROWS, 30000); // the last rows are built in slices
      const ids = await rowIds(page);
      for (let i = 1; i < ids.length; i += 1) assert.ok(compareIds(ids[i - 1], ids[i]) > 0, `rows out of order at ${i}`);
      assert.equal(await page.isHidden('#notice'), true, 'no reset: nothing was lost across the restarts');

      // "N min ago" still moves: put the page's clock back on the
      // notifications' time, and let 5 minutes pass.
      {
        await page.clock.setSystemTime(Date.now());
        await page.clock.runFor(30000); // the next age refresh
        const minutes = (label) => {
          const m = label.match(/^(?:just now|(\d+) (s|min) ago)$/);
          assert.ok(m, `age label "${label}"`);
          return m[2] === 'min' ? Number(m[1]) : 0;
        };
        const ages = () => page.$$eval('#notifications > li .entry__age', (els) => els.slice(0, 3).map((e) => e.textContent));
        const before = (await ages()).map(minutes);
        await page.clock.runFor('05:00');
        const later = (await ages()).map(minutes);
        for (const [i, b] of before.entries()) {
          assert.ok(later[i] >= b + 5 && later[i] <= b + 6, `row ${i}: "${b} min" then "${later[i]} min" 5 minutes later`);
        }
      }
      assert.deepEqual(errors.filter((e) => !/ERR_CONNECTION_REFUSED|EventSource|Failed to load resource/.test(e)), []);
    } finally {
      mock.child.kill('SIGCONT'); // a stopped process would not act on SIGTERM
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
