// The page behind a real nginx configured with the location block shipped
// for api.nasqueron.org (packaging/nginx/notifications.conf: {{ app_port }}
// and {{ api_entry_point }} filled in, nothing else changed), the bridge
// serving under /notifications (no prefix stripping), the real mock
// upstream. The bridge is restarted the way Docker or systemd restart it
// (SIGTERM, then a new process on the same port); meanwhile nginx answers
// 502, which makes the browser's EventSource give up for good: the page
// must reopen the stream by itself, with neither loss nor duplicate.
//
// nginx: /usr/sbin/nginx (Debian's nginx, test group of
// packaging/debian-packages.txt) or $NB_NGINX; missing, it fails loudly
// like the other prerequisites.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  REPO,
  fixtureTexts,
  launchBrowser,
  missingPrerequisite,
  openPage,
  postNotification,
  recorded,
  rowIds,
  rowTexts,
  sleep,
  startBridge,
  startMock,
  waitForRows,
  waitForStatus,
} from './helpers.mjs';

const NGINX = process.env.NB_NGINX || '/usr/sbin/nginx';
const ENTRY_POINT = '/notifications';

function nginxMissing() {
  try {
    accessSync(NGINX, constants.X_OK);
    return null;
  } catch {
    return `nginx not found at ${NGINX} (scripts/install-deps.sh test installs it, or set NB_NGINX)`;
  }
}

const skip = missingPrerequisite() ?? nginxMissing();

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** GET on 127.0.0.1:port; resolves { status, server, body }, or { status: 0 } when refused. */
function get(port, path) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode, server: res.headers.server ?? '', body }));
    });
    req.on('error', () => resolve({ status: 0, server: '', body: '' }));
  });
}

/**
 * nginx in front of 127.0.0.1:upstreamPort with the shipped location block,
 * from a temporary prefix (config, logs, pid, temp paths). Returns
 * { port, url, accessLog(), stop() }.
 */
async function startNginx(upstreamPort) {
  const dir = mkdtempSync(join(tmpdir(), 'nb-nginx-'));
  const location = readFileSync(join(REPO, 'packaging', 'nginx', 'notifications.conf'), 'utf8');
  assert.match(location, /\{\{ app_port \}\}/);
  assert.match(location, /\{\{ api_entry_point \}\}/);
  writeFileSync(
    join(dir, 'notifications.conf'),
    location.replaceAll('{{ app_port }}', String(upstreamPort)).replaceAll('{{ api_entry_point }}', ENTRY_POINT),
  );
  const port = await freePort();
  writeFileSync(
    join(dir, 'nginx.conf'),
    `worker_processes 1;
master_process off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 256; }
http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  types { text/html html; text/css css; text/javascript js; image/svg+xml svg; }
  gzip on;
  gzip_types text/event-stream text/css text/javascript;
  server {
    listen 127.0.0.1:${port};
    include ${dir}/notifications.conf;
  }
}
`,
  );
  const child = spawn(NGINX, ['-p', `${dir}/`, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log'), '-g', 'daemon off;'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (c) => {
    stderr += c;
  });
  const errorLog = () => {
    try {
      return readFileSync(join(dir, 'error.log'), 'utf8');
    } catch {
      return '';
    }
  };
  const deadline = Date.now() + 10000;
  // Ready when nginx itself answers (another process may have taken the
  // port between freePort() and nginx's bind: then nginx exits).
  while (!(await get(port, `${ENTRY_POINT}/status`)).server.startsWith('nginx')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`nginx did not start:\n${stderr}\n${errorLog()}`);
    }
    await sleep(50);
  }
  return {
    port,
    url: `http://127.0.0.1:${port}${ENTRY_POINT}`,
    accessLog: () => readFileSync(join(dir, 'access.log'), 'utf8'),
    errorLog,
    stop: () =>
      new Promise((resolve) => {
        const done = () => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        };
        if (child.exitCode !== null || child.signalCode !== null) {
          done();
          return;
        }
        const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(kill);
          done();
        });
        child.kill('SIGTERM');
      }),
  };
}

async function post(mock, text) {
  const { id } = await postNotification(mock, { service: 'Jenkins', group: 'ci', type: 'completed.success', text, link: '' });
  return id;
}

describe('the page behind nginx (shipped location block)', { skip: skip ?? false }, () => {
  let browser;
  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
  });

  test('bridge restarted behind nginx (502 meanwhile): the page recovers by itself, no loss, no duplicate', async () => {
    const mock = await startMock();
    const extra = ['--base-path', ENTRY_POINT];
    let bridge = await startBridge(mock, { extra });
    const port = bridge.port;
    const nginx = await startNginx(port);
    const { context, page, errors } = await openPage(browser);
    try {
      await page.goto(`${nginx.url}/`);
      await waitForRows(page, fixtureTexts().length);
      await waitForStatus(page, /^Live$/);
      let rec = await recorded(page);
      assert.equal(new URL(rec.urls[0]).pathname, `${ENTRY_POINT}/events`, 'the stream goes through nginx under the entry point');
      const ids = [await post(mock, 'before restart')];
      await waitForRows(page, fixtureTexts().length + 1);

      // A restart as Docker or systemd does it: SIGTERM ends every stream
      // properly; the browser reconnects, nginx answers 502.
      await bridge.stop('SIGTERM');
      assert.equal((await get(nginx.port, `${ENTRY_POINT}/status`)).status, 502);
      await waitForStatus(page, /^Reconnecting/, 20000);
      ids.push(await post(mock, 'while down 1'), await post(mock, 'while down 2'));
      // Stay down until the browser's own reconnection (after retry:) has
      // met nginx's 502 and the EventSource gave up: the page then counts
      // down its own backoff.
      const streams502 = () =>
        nginx
          .accessLog()
          .split('\n')
          .filter((l) => l.includes(`GET ${ENTRY_POINT}/events`) && / 502 /.test(l));
      const deadline = Date.now() + 20000;
      while (streams502().length === 0 && Date.now() < deadline) await sleep(100);
      assert.ok(streams502().length >= 1, `no 502 for the stream while the bridge was down:\n${nginx.accessLog()}`);
      await waitForStatus(page, /^Reconnecting in \d+ s…$/, 10000);
      const downAt = Date.now();

      bridge = await startBridge(mock, { port, extra });
      await waitForStatus(page, /^Live$/, 40000);
      const recoveredMs = Date.now() - downAt;
      ids.push(await post(mock, 'after restart'));
      await waitForRows(page, fixtureTexts().length + 4, 10000);
      await page.waitForTimeout(1500); // a duplicate would show by now

      assert.deepEqual(await rowTexts(page), ['after restart', 'while down 2', 'while down 1', 'before restart', ...fixtureTexts()]);
      const shown = await rowIds(page);
      assert.deepEqual(shown.slice(0, 4), [...ids].reverse());
      assert.equal(new Set(shown).size, shown.length, 'no duplicate');

      const refused = streams502();
      rec = await recorded(page);
      assert.ok(rec.urls.length >= 2, 'the page opened a new EventSource itself');
      for (const url of rec.urls.slice(1)) {
        assert.equal(new URL(url).pathname, `${ENTRY_POINT}/events`);
        assert.equal(new URL(url).searchParams.get('lastEventId'), ids[0]);
      }
      assert.equal(rec.overlaps, 0, 'never two EventSources open at once');
      assert.equal(rec.open, 1);
      assert.deepEqual(errors.filter((e) => !/502|EventSource|Failed to load resource/.test(e)), []);
      console.log(
        `# nginx: ${refused.length} stream request(s) answered 502 during the restart; ` +
          `page Live again ${recoveredMs} ms after the bridge was restarted (${rec.urls.length} EventSources in all)`,
      );
    } finally {
      await context.close();
      await nginx.stop();
      await bridge.stop();
      await mock.stop();
    }
  });
});

// Missing prerequisites fail loudly rather than pass as skipped.
if (skip) {
  test('prerequisites for the nginx browser test', () => {
    assert.fail(skip);
  });
}
