// URLs: the page's own query string (a bookmarkable view) and the stream's
// URL. Pure functions over strings and URL objects, no DOM.
//
// Page parameters:
//   service, project, group, type, key  server-side filters, repeatable,
//                                       passed to the bridge as they are
//   q                                   free-text search, client-side
//   kiosk                               wall-screen mode (?kiosk=1)
//   stream                              URL of the bridge's /events (absolute,
//                                       or relative to the page); followed only
//                                       to an origin the page's configuration
//                                       allows (resolveStreamUrl)
// Any other parameter is kept untouched when the page rewrites its URL.

import { SERVER_FILTER_KEYS, emptyFilters, normalizeFilters } from './filters.js';

/** Number of notifications asked for on a fresh connection filtered by the bridge. */
export const DEFAULT_BACKLOG = 100;
/**
 * Number asked for on a fresh shared connection (shared.js): the stream is
 * unfiltered and each tab filters, so ask for as many as a tab keeps
 * (MAX_ROWS in state.js) for a filtered view to start with enough.
 */
export const SHARED_BACKLOG = 500;

/**
 * Reads the page's query string (`location.search`, with or without "?").
 * Returns { filters, q, stream, kiosk }: filters as from normalizeFilters,
 * q a string ("" when absent), stream a string or null when absent or
 * empty, kiosk true for ?kiosk, ?kiosk=1 (any value but 0, false, no, off).
 */
export function parsePageParams(search) {
  const params = new URLSearchParams(search ?? '');
  const raw = emptyFilters();
  for (const k of SERVER_FILTER_KEYS) raw[k] = params.getAll(k);
  const stream = params.get('stream');
  const kiosk = params.get('kiosk');
  return {
    filters: normalizeFilters(raw),
    q: (params.get('q') ?? '').trim(),
    stream: stream && stream.trim() !== '' ? stream.trim() : null,
    kiosk: kiosk !== null && !['0', 'false', 'no', 'off'].includes(kiosk.trim().toLowerCase()),
  };
}

/**
 * Rewrites a query string for the given filters and free text, keeping every
 * other parameter (stream, …) as it was. Returns "" or a string starting
 * with "?".
 */
export function buildPageSearch(search, filters, q) {
  const params = new URLSearchParams(search ?? '');
  for (const k of [...SERVER_FILTER_KEYS, 'q']) params.delete(k);
  const f = normalizeFilters(filters);
  for (const k of SERVER_FILTER_KEYS) for (const v of f[k]) params.append(k, v);
  const text = String(q ?? '').trim();
  if (text !== '') params.set('q', text);
  const s = params.toString();
  return s === '' ? '' : `?${s}`;
}

/**
 * The origins a `?stream=` link may point the page at, besides its own, from
 * the content of <meta name="notifications-stream-origins">: origins
 * separated by spaces or commas ("https://api.nasqueron.org
 * http://127.0.0.1:8080"), a trailing "/" allowed, or "*" for any origin.
 * Returns { any, origins, invalid }: `origins` the ASCII serializations
 * (lowercased host, default port dropped), `invalid` the entries that are
 * not an http(s) origin (a path, a query, another scheme): they allow
 * nothing.
 */
export function parseAllowedOrigins(content) {
  const out = { any: false, origins: [], invalid: [] };
  for (const entry of String(content ?? '').split(/[\s,]+/).filter(Boolean)) {
    if (entry === '*') {
      out.any = true;
      continue;
    }
    let url = null;
    try {
      url = new URL(entry);
    } catch {
      // stays null: invalid
    }
    const isOrigin =
      url !== null &&
      (url.protocol === 'http:' || url.protocol === 'https:') &&
      url.pathname === '/' &&
      !/^[a-z]+:\/\/[^/]*\/./i.test(entry) &&
      url.search === '' &&
      url.hash === '' &&
      !entry.includes('?') &&
      !entry.includes('#') &&
      url.username === '' &&
      url.password === '';
    if (isOrigin) {
      if (!out.origins.includes(url.origin)) out.origins.push(url.origin);
    } else {
      out.invalid.push(entry);
    }
  }
  return out;
}

function parseHttpUrl(value, base, what) {
  let url;
  try {
    url = new URL(value.trim(), base);
  } catch {
    return { error: `The stream URL from the ${what} is not a valid URL.` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { error: `The stream URL from the ${what} must use http or https.` };
  }
  url.hash = '';
  return { url };
}

const present = (v) => typeof v === 'string' && v.trim() !== '';

/**
 * Where the stream lives. In order: the page's `?stream=` parameter, the
 * content of <meta name="notifications-stream"> when not empty, else
 * "events" relative to the page (so /notifications/ uses
 * /notifications/events). Relative values resolve against `pageHref`.
 *
 * A `?stream=` URL is anyone's link, so it is followed only to an origin the
 * deployment trusts: the page's own, the origin of the stream configured in
 * the meta tag, or one listed in `originsContent` (the content of
 * <meta name="notifications-stream-origins">, see parseAllowedOrigins).
 * Same-origin only when neither meta tag is filled in.
 *
 * Returns { url, source } with url a string and source one of "param",
 * "meta", "default"; or { error } (a sentence for the user) when a
 * configured value is not an http(s) URL; or { error, refused } (refused:
 * the origin) when `?stream=` points at an origin not allowed. Never throws.
 */
export function resolveStreamUrl({ pageHref, streamParam, metaContent, originsContent = '' }) {
  let meta = null;
  if (present(metaContent)) {
    const parsed = parseHttpUrl(metaContent, pageHref, 'page configuration');
    if (parsed.error) return parsed;
    meta = parsed.url;
  }
  if (present(streamParam)) {
    const parsed = parseHttpUrl(streamParam, pageHref, '?stream= parameter');
    if (parsed.error) return parsed;
    const { origin } = parsed.url;
    const own = new URL(pageHref).origin;
    const allowed = parseAllowedOrigins(originsContent);
    const trusted = [own, ...(meta && meta.origin !== own ? [meta.origin] : []), ...allowed.origins.filter((o) => o !== own && o !== meta?.origin)];
    if (!allowed.any && !trusted.includes(origin)) {
      return {
        error:
          `Refused: this link's ?stream= points the page at ${origin}, which its configuration does not allow ` +
          `(allowed: ${trusted.join(', ')}). Open the page without ?stream= to see its own notifications.`,
        refused: origin,
      };
    }
    return { url: parsed.url.href, source: 'param' };
  }
  if (meta) return { url: meta.href, source: 'meta' };
  return { url: new URL('events', pageHref).href, source: 'default' };
}

/**
 * The URL to open: `base` (from resolveStreamUrl, may already carry a query
 * string, which is kept) plus the server-side filters, `backlog` and, when
 * resuming, `lastEventId`. Parameters of `base` with the same names are
 * replaced.
 */
export function buildStreamUrl(base, filters, { backlog = DEFAULT_BACKLOG, lastEventId = null } = {}) {
  const url = new URL(base);
  const f = normalizeFilters(filters);
  for (const k of [...SERVER_FILTER_KEYS, 'backlog', 'lastEventId']) url.searchParams.delete(k);
  for (const k of SERVER_FILTER_KEYS) for (const v of f[k]) url.searchParams.append(k, v);
  if (Number.isInteger(backlog) && backlog > 0) url.searchParams.set('backlog', String(backlog));
  if (typeof lastEventId === 'string' && lastEventId !== '') url.searchParams.set('lastEventId', lastEventId);
  return url.href;
}
