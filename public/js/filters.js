// Filters: which notifications a view shows. Pure functions, no DOM.
//
// Server-side filters (project, group, service, type, key) mirror the
// bridge's `GET /events` query parameters (docs/events.md): values of one
// parameter are OR-ed, different parameters AND-ed, comparisons are ASCII
// case-insensitive, `key` is an AMQP topic pattern over the lowercased
// routing key `project.group.service.type`. The page passes them to the
// bridge, and applies them again here so what it shows never depends on the
// server having honoured them. The free text `q` is client-side only.

/** The filters the bridge understands, in the order they appear in URLs. */
export const SERVER_FILTER_KEYS = Object.freeze(['service', 'project', 'group', 'type', 'key']);

/** A filter set that keeps everything. */
export function emptyFilters() {
  return { service: [], project: [], group: [], type: [], key: [] };
}

/** Lowercases A-Z only, like the bridge (no locale rules: "I" stays "i"). */
export function asciiLower(s) {
  return String(s).replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
}

/**
 * Returns a copy of `filters` holding, for each server key, an array of
 * distinct strings (first occurrence kept). Unknown keys are dropped; a
 * missing key becomes []. `group` may hold "" (the empty group).
 */
export function normalizeFilters(filters) {
  const out = emptyFilters();
  if (!filters || typeof filters !== 'object') return out;
  for (const k of SERVER_FILTER_KEYS) {
    const v = filters[k];
    const list = Array.isArray(v) ? v : v === undefined || v === null ? [] : [v];
    const seen = new Set();
    for (const item of list) {
      if (typeof item !== 'string') continue;
      if (item === '' && k !== 'group') continue;
      const folded = asciiLower(item);
      if (seen.has(folded)) continue;
      seen.add(folded);
      out[k].push(item);
    }
  }
  return out;
}

/** True when both filter sets ask the bridge for the same stream. */
export function sameServerFilters(a, b) {
  const x = normalizeFilters(a);
  const y = normalizeFilters(b);
  return SERVER_FILTER_KEYS.every(
    (k) => x[k].length === y[k].length && x[k].every((v, i) => asciiLower(v) === asciiLower(y[k][i])),
  );
}

/** True when no server-side filter is set. */
export function hasServerFilters(filters) {
  const f = normalizeFilters(filters);
  return SERVER_FILTER_KEYS.some((k) => f[k].length > 0);
}

/** The lowercased AMQP routing key `project.group.service.type` (null fields are ""). */
export function routingKey(n) {
  return [n.project, n.group, n.service, n.type].map((v) => asciiLower(v ?? '')).join('.');
}

/**
 * AMQP topic matching: words separated by ".", "*" matches exactly one word,
 * "#" zero or more words. Both arguments are compared as given (lowercase
 * them first). Returns a boolean; never throws.
 */
export function topicMatches(pattern, key) {
  const p = String(pattern).split('.');
  const k = String(key).split('.');
  // match(i, j): does p[i..] match k[j..]? Memoised so several "#" stay
  // polynomial instead of exponential.
  const memo = new Map();
  const match = (i, j) => {
    const id = i * (k.length + 1) + j;
    if (memo.has(id)) return memo.get(id);
    let r;
    if (i === p.length) r = j === k.length;
    else if (p[i] === '#') r = match(i + 1, j) || (j < k.length && match(i, j + 1));
    else if (j === k.length) r = false;
    else r = (p[i] === '*' || p[i] === k[j]) && match(i + 1, j + 1);
    memo.set(id, r);
    return r;
  };
  return match(0, 0);
}

// Compiled matchers, kept per filter object (state.js keeps one frozen
// object until the filters change): a render checks 500 notifications, and
// normalizing the filters for each was most of its cost under a flood.
const serverMatchers = new WeakMap();

/** A function (n) => boolean applying `filters` (server-side) to normalized notifications. */
export function serverMatcher(filters) {
  const cacheable = filters !== null && typeof filters === 'object';
  if (cacheable && serverMatchers.has(filters)) return serverMatchers.get(filters);
  const f = normalizeFilters(filters);
  const fields = ['service', 'project', 'group', 'type']
    .filter((k) => f[k].length > 0)
    .map((k) => [k, new Set(f[k].map(asciiLower))]);
  const patterns = f.key.map(asciiLower);
  const match = (n) => {
    for (const [k, wanted] of fields) if (!wanted.has(asciiLower(n[k] ?? ''))) return false;
    if (patterns.length > 0) {
      const rk = routingKey(n);
      if (!patterns.some((pattern) => topicMatches(pattern, rk))) return false;
    }
    return true;
  };
  if (cacheable) serverMatchers.set(filters, match);
  return match;
}

/** Server-side filters applied to one normalized notification. */
export function matchesServerFilters(n, filters) {
  return serverMatcher(filters)(n);
}

/** A function (n) => boolean for the free text `q` (see matchesText). */
export function textMatcher(q) {
  const words = String(q ?? '').toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return () => true;
  return (n) => {
    const hay = [n.service, n.project, n.group, n.type, n.text, n.link]
      .filter((v) => typeof v === 'string')
      .join('\n')
      .toLowerCase();
    return words.every((w) => hay.includes(w));
  };
}

/**
 * Free-text search: every whitespace-separated word of `q` must occur,
 * case-insensitively, in one of the notification's visible fields.
 */
export function matchesText(n, q) {
  return textMatcher(q)(n);
}

/** A function (n) => boolean for both kinds of filters: what the page shows. */
export function filtersMatcher(filters, q) {
  const server = serverMatcher(filters);
  const text = textMatcher(q);
  return (n) => server(n) && text(n);
}

/** Both kinds of filters: what the page shows. */
export function matchesFilters(n, filters, q) {
  return filtersMatcher(filters, q)(n);
}
