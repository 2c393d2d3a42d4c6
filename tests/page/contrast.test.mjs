// WCAG 2 contrast of the colour pairs the page uses for text, read from
// public/style.css so the stylesheet and this check cannot drift apart.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

const css = readFileSync(new URL('../../public/style.css', import.meta.url), 'utf8');
const root = css.match(/:root\s*{([^}]*)}/)[1];
const vars = Object.fromEntries([...root.matchAll(/--([\w-]+):\s*(#[0-9a-fA-F]{6})\s*;/g)].map((m) => [m[1], m[2]]));

function luminance(hex) {
  const n = parseInt(hex.slice(1), 16);
  const lin = (c) => {
    const v = c / 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(n >> 16) + 0.7152 * lin((n >> 8) & 255) + 0.0722 * lin(n & 255);
}

export function contrast(a, b) {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}

test('the palette is the one of infra.nasqueron.org', () => {
  assert.equal(vars.bg.toLowerCase(), '#262626');
  assert.equal(vars.text.toLowerCase(), '#f2e8df');
  assert.equal(vars.primary.toLowerCase(), '#2c6a74');
  assert.equal(vars.secondary.toLowerCase(), '#3f8b82');
  assert.equal(vars.warning.toLowerCase(), '#f2792e');
  assert.equal(vars.alert.toLowerCase(), '#f06330');
});

test('the computation matches known values', () => {
  assert.equal(contrast('#000000', '#ffffff').toFixed(1), '21.0');
  assert.equal(contrast('#F2E8DF', '#262626').toFixed(2), '12.53');
});

// [foreground, background, where]
const pairs = [
  ['text', 'bg', 'body text'],
  ['text', 'surface', 'rows, panels'],
  ['text', 'surface-raised', 'ghost button hover'],
  ['muted', 'bg', 'secondary text'],
  ['muted', 'surface', 'ages, labels, counts'],
  ['secondary-text', 'bg', 'links'],
  ['secondary-text', 'surface', 'links in rows'],
  ['text', 'primary', 'buttons'],
  ['text', 'primary-hover', 'buttons (hover)'],
  ['on-warning', 'warning', '"12 new" button, skip link'],
  ['warning', 'bg', 'warning accents as text'],
  ['alert', 'bg', 'alert accents as text'],
  ['on-warning', 'alert', 'wall-screen banner: stream down'],
  ['badge-github-fg', 'badge-github-bg', 'GitHub badge'],
  ['badge-jenkins-fg', 'badge-jenkins-bg', 'Jenkins badge'],
  ['badge-phabricator-fg', 'badge-phabricator-bg', 'Phabricator badge'],
  ['badge-dockerhub-fg', 'badge-dockerhub-bg', 'Docker Hub badge'],
  ['badge-other-fg', 'badge-other-bg', 'other services badge'],
];

for (const [fg, bg, where] of pairs) {
  test(`contrast ≥ 4.5:1 for ${where} (--${fg} on --${bg})`, () => {
    assert.ok(vars[fg] && vars[bg], `--${fg} and --${bg} are declared in :root`);
    const ratio = contrast(vars[fg], vars[bg]);
    assert.ok(ratio >= 4.5, `${vars[fg]} on ${vars[bg]}: ${ratio.toFixed(2)}`);
  });
}

test('the secondary colour is never used as text colour (3.8:1 on the background)', () => {
  assert.ok(contrast(vars.secondary, vars.bg) < 4.5);
  assert.doesNotMatch(css, /(^|[^-])color:\s*var\(--secondary\)/m);
});
