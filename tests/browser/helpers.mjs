// Shared helpers for the browser end-to-end tests: start the real
// notifications-mock-api and notifications-bridge as child processes on free
// ports, a static file server for the "published elsewhere" case, a proxy
// that answers 502 while the bridge is down, and Debian's Chromium driven by
// playwright-core (no browser is ever downloaded).
//
// Binaries: $NB_BUILD_DIR (default "build", relative to the repository root)
// /notifications-mock-api and /notifications-bridge. Ports: every server
// binds 127.0.0.1:0 and the port is read back from its first stdout line.

import { spawn } from 'node:child_process';
import { accessSync, constants, createReadStream, mkdirSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const PUBLIC_DIR = join(REPO, 'public');
export const FIXTURES = join(REPO, 'tests', 'fixtures', 'notifications.json');
export const BUILD_DIR = resolve(REPO, process.env.NB_BUILD_DIR || 'build');
export const MOCK_BIN = join(BUILD_DIR, 'notifications-mock-api');
export const BRIDGE_BIN = join(BUILD_DIR, 'notifications-bridge');
export const CHROMIUM = process.env.NB_CHROMIUM || '/usr/bin/chromium';
export const POLL_INTERVAL_S = 0.5;

/** Reason the e2e tests cannot run here, or null when they can. */
export function missingPrerequisite() {
  for (const [what, path] of [
    ['notifications-mock-api', MOCK_BIN],
    ['notifications-bridge', BRIDGE_BIN],
    ['Chromium', CHROMIUM],
  ]) {
    try {
      accessSync(path, constants.X_OK);
    } catch {
      return `${what} not found or not executable at ${path} (build the project, or set NB_BUILD_DIR / NB_CHROMIUM)`;
    }
  }
  return null;
}

export const fixtures = () => JSON.parse(readFileSync(FIXTURES, 'utf8'));
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const children = new Set();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/**
 * Spawns `bin args`, waits for a stdout line matching `ready` (a RegExp
 * with one capture: the port) and returns { child, port, line, output(),
 * stop() }. Rejects with the process's output when it exits or is silent
 * for `timeoutMs`.
 */
export function startProcess(bin, args, ready, { timeoutMs = 10000, name = bin } = {}) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(bin, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let out = '';
    let done = false;
    const output = () => out;
    const stop = (signal = 'SIGTERM') =>
      new Promise((r) => {
        if (child.exitCode !== null || child.signalCode !== null) {
          children.delete(child);
          r();
          return;
        }
        const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(kill);
          children.delete(child);
          r();
        });
        child.kill(signal);
      });
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      child.kill('SIGKILL');
      reject(new Error(`${name} did not print its listening line within ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    const onData = (chunk) => {
      out += chunk;
      if (done) return;
      const m = out.match(ready);
      if (m) {
        done = true;
        clearTimeout(timer);
        resolvePromise({ child, port: Number(m[1]), line: m[0], output, stop });
      }
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    child.stderr.setEncoding('utf8').on('data', (chunk) => {
      out += chunk;
    });
    child.on('exit', (code, signal) => {
      children.delete(child);
      if (done) return;
      done = true;
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? signal}) before listening:\n${out}`));
    });
  });
}

/** notifications-mock-api with the fixtures, on `port` (0: a free one). */
export async function startMock({ port = 0, extra = [] } = {}) {
  for (let attempt = 0; ; attempt += 1) {
    try {
      const mock = await startProcess(
        MOCK_BIN,
        ['--port', String(port), '--fixtures', FIXTURES, ...extra],
        /notifications-mock-api listening on http:\/\/[^:\s]+:(\d+)\/delivery/,
        { name: 'notifications-mock-api' },
      );
      mock.url = `http://127.0.0.1:${mock.port}`;
      return mock;
    } catch (err) {
      if (port === 0 || attempt >= 20) throw err;
      await sleep(250);
    }
  }
}

/** notifications-bridge polling `mock`, on `port` (0: a free one). */
export async function startBridge(mock, { port = 0, allowOrigin = [], pollInterval = POLL_INTERVAL_S, extra = [] } = {}) {
  const args = [
    '--delivery-url', `${mock.url}/delivery`,
    '--listen', `127.0.0.1:${port}`,
    '--public-dir', PUBLIC_DIR,
    '--poll-interval', String(pollInterval),
    ...allowOrigin.flatMap((o) => ['--allow-origin', o]),
    ...extra,
  ];
  // A port just freed by a killed bridge can take a moment to be bindable.
  for (let attempt = 0; ; attempt += 1) {
    try {
      const bridge = await startProcess(BRIDGE_BIN, args, /listening on http:\/\/127\.0\.0\.1:(\d+)/, {
        name: 'notifications-bridge',
      });
      bridge.url = `http://127.0.0.1:${bridge.port}`;
      return bridge;
    } catch (err) {
      if (port === 0 || attempt >= 20) throw err;
      await sleep(250);
    }
  }
}

/**
 * Injects a notification through the mock's gate; returns its JSON answer
 * ({ id, … }). A fresh connection per call: on a reused keep-alive
 * connection the mock answers ~26 ms late.
 */
export function postNotification(mock, body, project = 'Nasqueron') {
  const data = JSON.stringify(body);
  return new Promise((resolvePromise, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: mock.port,
        path: `/gate/Notification/${encodeURIComponent(project)}`,
        method: 'POST',
        agent: false,
        headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          text += chunk;
        });
        res.on('end', () => {
          if (res.statusCode !== 200 && res.statusCode !== 201) {
            reject(new Error(`gate answered ${res.statusCode}: ${text}`));
            return;
          }
          try {
            resolvePromise(JSON.parse(text));
          } catch (err) {
            reject(new Error(`gate answered non-JSON: ${text}`, { cause: err }));
          }
        });
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/** The CSP the page must live with (as strict as the bridge's, connect-src open). */
export const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src *; base-uri 'none'; object-src 'none'";

/**
 * A static site serving public/ under `base` (e.g. "/notifications/") on a
 * free port, as infra.nasqueron.org would. `rewriteIndex(html)` may edit
 * index.html on the way (to fill the stream meta tag). Returns
 * { port, url, close() }.
 */
export function startStaticServer({ base = '/', rewriteIndex = (html) => html } = {}) {
  const server = http.createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    if (!path.startsWith(base)) {
      res.writeHead(404).end('not found');
      return;
    }
    let rel = path.slice(base.length) || 'index.html';
    if (rel.endsWith('/')) rel += 'index.html';
    const file = normalize(join(PUBLIC_DIR, rel));
    if (!file.startsWith(PUBLIC_DIR + sep)) {
      res.writeHead(403).end('forbidden');
      return;
    }
    let st;
    try {
      st = statSync(file);
    } catch {
      res.writeHead(404).end('not found');
      return;
    }
    if (!st.isFile()) {
      res.writeHead(404).end('not found');
      return;
    }
    const headers = {
      'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
      'Content-Security-Policy': CSP,
      'Cache-Control': 'no-store',
    };
    if (file.endsWith('index.html')) {
      res.writeHead(200, headers).end(rewriteIndex(readFileSync(file, 'utf8')));
      return;
    }
    res.writeHead(200, headers);
    createReadStream(file).pipe(res);
  });
  return new Promise((r) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      r({
        port,
        url: `http://127.0.0.1:${port}`,
        close: () =>
          new Promise((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

/**
 * A reverse proxy in front of the bridge, as nginx would be: while the bridge
 * is down it answers 502 (which makes a browser's EventSource give up for
 * good). `target()` returns the bridge's current port. Returns { port, url,
 * close() }.
 */
export function startProxy(target) {
  const server = http.createServer((req, res) => {
    const upstream = http.request(
      { host: '127.0.0.1', port: target(), path: req.url, method: req.method, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode, up.headers);
        up.pipe(res);
        up.on('error', () => res.destroy());
      },
    );
    upstream.on('error', (err) => {
      if (process.env.NB_DEBUG_PROXY) console.error('proxy:', err);
      if (!res.headersSent) res.writeHead(502, { 'Content-Type': 'text/html' }).end('<h1>502 Bad Gateway</h1>');
      else res.destroy();
    });
    // The browser went away (or the page closed the stream): drop upstream.
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  return new Promise((r) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      r({
        port,
        url: `http://127.0.0.1:${port}`,
        close: () =>
          new Promise((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

export function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-quic',
      '--disable-sync',
    ],
  });
}

// Runs in the page before its own scripts: records every EventSource (URL,
// how many were open at once), CSP violations and page-visible errors, and
// lets a test pretend the tab is hidden.
function instrument() {
  const record = {
    sources: [],
    urls: [],
    overlaps: 0,
    cspViolations: [],
    desktop: [],
    permissionRequests: 0,
    received: 0, // notification events delivered by this page's EventSources
  };
  window.__nb = record;
  // Main-thread tasks over 50 ms (Long Tasks API) and long animation frames
  // (task + rendering), and the most rows the list ever held at once.
  record.longTasks = [];
  record.longFrames = [];
  record.maxRows = 0;
  for (const [type, list] of [['longtask', record.longTasks], ['long-animation-frame', record.longFrames]]) {
    try {
      new PerformanceObserver((entries) => {
        for (const e of entries.getEntries()) list.push({ start: Math.round(e.startTime), duration: Math.round(e.duration) });
      }).observe({ type, buffered: true });
    } catch {
      // not supported by this browser
    }
  }
  document.addEventListener('DOMContentLoaded', () => {
    const list = document.getElementById('notifications');
    if (!list) return;
    new MutationObserver(() => {
      record.maxRows = Math.max(record.maxRows, list.childElementCount);
    }).observe(list, { childList: true });
  });
  const Native = window.EventSource;
  class RecordingEventSource extends Native {
    constructor(url, init) {
      const alive = record.sources.filter((s) => s.readyState !== 2).length;
      if (alive > 0) record.overlaps += 1;
      super(url, init);
      this.addEventListener('notification', () => {
        record.received += 1;
      });
      record.sources.push(this);
      record.urls.push(String(url));
    }
  }
  window.EventSource = RecordingEventSource;
  document.addEventListener('securitypolicyviolation', (e) => {
    record.cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`);
  });
  let hidden = false;
  Object.defineProperty(Document.prototype, 'visibilityState', {
    configurable: true,
    get: () => (hidden ? 'hidden' : 'visible'),
  });
  Object.defineProperty(Document.prototype, 'hidden', { configurable: true, get: () => hidden });
  window.__nbSetHidden = (value) => {
    hidden = value;
    document.dispatchEvent(new Event('visibilitychange'));
  };
  // A recording Notification API (the real one needs a desktop).
  let permission = 'default';
  class FakeNotification {
    constructor(title, options = {}) {
      record.desktop.push({ title, body: options.body ?? '' });
      this.onclick = null;
    }
    close() {}
    static get permission() {
      return permission;
    }
    static requestPermission() {
      record.permissionRequests += 1;
      permission = 'granted';
      return Promise.resolve(permission);
    }
  }
  window.Notification = FakeNotification;
}

// A browser without BroadcastChannel and Web Locks: each tab its own stream.
function withoutSharing() {
  delete window.BroadcastChannel;
  Object.defineProperty(Navigator.prototype, 'locks', { configurable: true, get: () => undefined });
}

/**
 * A fresh context and page with the instrumentation above (`share: false`:
 * without BroadcastChannel and Web Locks, the fallback); collects page
 * errors, dialogs and requests. Returns { context, page, errors, dialogs,
 * requests }.
 */
export async function openPage(browser, { width = 1280, height = 900, share = true } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, locale: 'en-GB', timezoneId: 'Europe/Paris' });
  await context.addInitScript(instrument);
  if (!share) await context.addInitScript(withoutSharing);
  const page = await context.newPage();
  const errors = [];
  const dialogs = [];
  const requests = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    d.dismiss().catch(() => {});
  });
  page.on('request', (r) => requests.push(r.url()));
  return { context, page, errors, dialogs, requests };
}

/**
 * Posts `count` notifications through the mock's gate, `concurrency` at a
 * time, `make(i)` giving the body of the i-th (0-based). Resolves to their
 * ids in the order the mock numbered them (ascending).
 */
export async function postMany(mock, count, make, { concurrency = 16 } = {}) {
  const ids = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next;
      next += 1;
      ids.push((await postNotification(mock, make(i))).id);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return ids.sort((a, b) => (a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Records a Chromium trace of `page` (devtools.timeline) until stop(), which
 * resolves to the tasks of the page's main thread: [{ at, wall, cpu }] in
 * ms (`cpu`: the thread's CPU time, which a busy machine does not inflate;
 * `wall`: what the Long Tasks API would see).
 */
export async function traceMainThread(context, page) {
  const cdp = await context.newCDPSession(page);
  const events = [];
  cdp.on('Tracing.dataCollected', (e) => events.push(...e.value));
  // The tasks ("toplevel") and the frames' processes (the disabled-by-default
  // timeline) add little to what they measure; NB_TRACE_DETAIL=1 adds what
  // ran inside long tasks, at the price of tracing every function call.
  const detail = process.env.NB_TRACE_DETAIL ? ',devtools.timeline,v8,disabled-by-default-v8.gc' : '';
  await cdp.send('Tracing.start', { categories: `toplevel,disabled-by-default-devtools.timeline${detail}`, transferMode: 'ReportEvents' });
  const origin = new URL(page.url()).origin;
  return {
    async stop() {
      const complete = new Promise((r) => cdp.once('Tracing.tracingComplete', r));
      await cdp.send('Tracing.end');
      await complete;
      await cdp.detach().catch(() => {});
      // The renderer whose main thread ran the page's scripts.
      // The main thread of the renderer showing the page's frame.
      const frames = events.filter((e) => e.name === 'TracingStartedInBrowser').flatMap((e) => e.args?.data?.frames ?? []);
      const pids = new Set(frames.filter((f) => String(f.url ?? '').startsWith(origin)).map((f) => f.processId));
      const mains = events.filter((e) => e.name === 'thread_name' && e.args?.name === 'CrRendererMain');
      const main = mains.find((m) => pids.has(m.pid)) ?? (mains.length === 1 ? mains[0] : undefined);
      if (!main) throw new Error('no renderer main thread ran the page in the trace');
      const onMain = events.filter((e) => e.ph === 'X' && e.pid === main.pid && e.tid === main.tid);
      const tasks = onMain.filter((e) => e.name === 'ThreadControllerImpl::RunTask');
      if (tasks.length === 0) throw new Error('no task of the page main thread in the trace');
      const t0 = tasks.length ? tasks[0].ts : 0;
      return tasks.map((t) => {
        const task = { at: Math.round((t.ts - t0) / 1000), wall: t.dur / 1000, cpu: (t.tdur ?? t.dur) / 1000 };
        if (task.cpu > 50) {
          // What a long one did: CPU by event name, for the failure message.
          const inside = new Map();
          for (const e of onMain) {
            if (e === t || e.ts < t.ts || e.ts + (e.dur ?? 0) > t.ts + t.dur) continue;
            inside.set(e.name, (inside.get(e.name) ?? 0) + (e.tdur ?? 0) / 1000);
          }
          task.inside = Object.fromEntries([...inside].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([k, v]) => [k, Math.round(v)]));
        }
        return task;
      });
    },
  };
}

/** Texts of the rows in display order (newest first). */
export function rowTexts(page) {
  return page.$$eval('#notifications > li .entry__text', (els) => els.map((e) => e.textContent));
}

/** Ids of the rows in display order. */
export function rowIds(page) {
  return page.$$eval('#notifications > li', (els) => els.map((e) => e.dataset.id));
}

export async function waitForRows(page, count, timeout = 10000) {
  await page.waitForFunction((n) => document.querySelectorAll('#notifications > li').length === n, count, { timeout });
}

/** Waits until the rows' texts are exactly `expected` (newest first). */
export async function waitForTexts(page, expected, timeout = 10000) {
  try {
    await page.waitForFunction(
      (want) => {
        const got = [...document.querySelectorAll('#notifications > li .entry__text')].map((e) => e.textContent);
        return got.length === want.length && got.every((t, i) => t === want[i]);
      },
      expected,
      { timeout, polling: 50 },
    );
  } catch (err) {
    const got = await page.$$eval('#notifications > li .entry__text', (els) => els.map((e) => e.textContent));
    throw new Error(`rows are not as expected after ${timeout} ms\nexpected: ${JSON.stringify(expected)}\ngot:      ${JSON.stringify(got)}`, { cause: err });
  }
}

export async function waitForStatus(page, pattern, timeout = 15000) {
  await page.waitForFunction(
    ([source, flags]) => new RegExp(source, flags).test(document.getElementById('status-text').textContent),
    [pattern.source, pattern.flags],
    { timeout, polling: 50 },
  );
}

export async function recorded(page) {
  return page.evaluate(() => ({
    urls: window.__nb.urls,
    overlaps: window.__nb.overlaps,
    open: window.__nb.sources.filter((s) => s.readyState !== 2).length,
    cspViolations: window.__nb.cspViolations,
    desktop: window.__nb.desktop,
    permissionRequests: window.__nb.permissionRequests,
    longTasks: window.__nb.longTasks,
    longFrames: window.__nb.longFrames,
    maxRows: window.__nb.maxRows,
  }));
}

export function ensureDir(path) {
  mkdirSync(path, { recursive: true });
}

/** Expected texts of the fixtures as the page shows them, newest first. */
export function fixtureTexts() {
  return fixtures()
    .map((f) => (typeof f.text === 'string' && f.text.trim() !== '' ? f.text : '(no text)'))
    .reverse();
}
