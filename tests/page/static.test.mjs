// Static checks over public/: what the CSP and house style require, checked
// on the files themselves (the browser tests check the behaviour).
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const PUBLIC = fileURLToPath(new URL('../../public/', import.meta.url));

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

const files = walk(PUBLIC);
const read = (rel) => readFileSync(join(PUBLIC, rel), 'utf8');
const js = files.filter((f) => f.endsWith('.js'));
const html = read('index.html');
const css = read('style.css');

test('public/ has the expected files', () => {
  for (const rel of ['index.html', 'style.css', 'js/main.js', 'js/controller.js', 'js/desktop.js', 'js/state.js', 'js/view.js', 'js/stream.js', 'js/url.js', 'js/filters.js', 'js/format.js', 'js/backoff.js']) {
    assert.ok(files.includes(join(PUBLIC, rel)), rel);
  }
});

test('no markup parsing of strings anywhere', () => {
  for (const f of js) {
    const src = readFileSync(f, 'utf8');
    for (const bad of ['innerHTML', 'outerHTML', 'insertAdjacentHTML', 'document.write', 'eval(', 'new Function', 'createContextualFragment', 'DOMParser']) {
      assert.ok(!src.includes(bad), `${f} uses ${bad}`);
    }
  }
});

test('main.js only wires (TodoMVC app.js size)', () => {
  const lines = read('js/main.js').split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('//'));
  assert.ok(lines.length <= 80, `main.js has ${lines.length} lines of code`);
  assert.doesNotMatch(read('js/main.js'), /\bfunction\s*[\w(]/, 'main.js defines no functions: logic belongs elsewhere');
});

test('only view.js and main.js touch the DOM; pure modules use no browser globals', () => {
  for (const name of ['state.js', 'filters.js', 'format.js', 'url.js', 'backoff.js', 'stream.js', 'controller.js', 'desktop.js']) {
    const src = read(`js/${name}`).replace(/\/\/.*$/gm, '').replace(/\/\*[\s\S]*?\*\//g, '');
    assert.doesNotMatch(src, /\b(document|window|localStorage|sessionStorage|navigator|history)\b/, name);
    assert.doesNotMatch(src, /\bNotification\.|new Notification\b|(?<![.\w])setTimeout\(|(?<![.\w])setInterval\(|Date\.now\(/, `${name}: browser objects and time are injected`);
  }
  const main = read('js/main.js');
  for (const api of ['createElement', 'textContent', 'appendChild', 'replaceChildren', 'getElementById']) {
    assert.ok(!main.includes(api), `main.js uses ${api}: DOM work belongs in view.js`);
  }
});

test('index.html: no inline script or style, one module entry point, the stream meta tag empty', () => {
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/i, 'inline <script>');
  assert.doesNotMatch(html, /<style[\s>]/i, 'inline <style>');
  assert.doesNotMatch(html, /\sstyle\s*=/i, 'style attribute');
  assert.doesNotMatch(html, /\son[a-z]+\s*=/i, 'inline event handler');
  assert.match(html, /<script type="module" src="js\/main.js"><\/script>/);
  assert.match(html, /<meta name="notifications-stream" content="">/);
  // Same-origin by default: a ?stream= link to another origin is refused.
  assert.match(html, /<meta name="notifications-stream-origins" content="">/);
  assert.match(html, /<html lang="en">/);
  assert.match(html, /name="viewport"/);
});

test('no request leaves the origin: no CDN, no web font, no remote image', () => {
  // Links (<a href>) may point elsewhere; nothing the browser fetches by itself may.
  assert.doesNotMatch(html, /<(script|link|img|iframe|source|video|audio)[^>]+(src|href)="(https?:)?\/\//i);
  assert.doesNotMatch(css, /url\(\s*["']?(https?:)?\/\//i);
  assert.doesNotMatch(css, /@import/i);
  assert.doesNotMatch(css, /@font-face/i);
  for (const f of files.filter((p) => p.endsWith('.svg'))) {
    const svg = readFileSync(f, 'utf8');
    assert.doesNotMatch(svg, /(href|src)=["'](https?:)?\/\//i, f);
    assert.doesNotMatch(svg, /<script/i, f);
  }
  for (const f of js) {
    const src = readFileSync(f, 'utf8');
    assert.doesNotMatch(src, /import[^;]*from\s+['"](https?:)?\/\//, f);
  }
});

test('fonts: Dosis for headings, Source Sans Pro for the body, then the system sans', () => {
  assert.match(css, /--font-heading:\s*"Dosis",[^;]*sans-serif;/);
  assert.match(css, /--font-body:\s*"Source Sans Pro",[^;]*sans-serif;/);
});

test('links opened from rows carry noopener noreferrer and _blank', () => {
  const view = read('js/view.js');
  assert.match(view, /setAttribute\('rel', 'noopener noreferrer'\)/);
  assert.match(view, /setAttribute\('target', '_blank'\)/);
});
