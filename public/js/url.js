// URLs: the page's own query string (a bookmarkable view) and the stream's
// URL. Pure functions over strings and URL objects, no DOM.
//
// Page parameters:
//   service, project, group, type, key  server-side filters, repeatable,
//                                       passed to the bridge as they are
//   q                                   free-text search, client-side
//   stream                              URL of the bridge's /events (absolute,
//                                       or relative to the page)
// Any other parameter is kept untouched when the page rewrites its URL.

import { SERVER_FILTER_KEYS, emptyFilters, normalizeFilters } from './filters.js';

/** Number of notifications asked for on a fresh connection. */
export const DEFAULT_BACKLOG = 100;

/**
 * Reads the page's query string (`location.search`, with or without "?").
 * Returns { filters, q, stream }: filters as from normalizeFilters, q a
 * string ("" when absent), stream a string or null when absent or empty.
 */
export function parsePageParams(search) {
  const params = new URLSearchParams(search ?? '');
  const raw = emptyFilters();
  for (const k of SERVER_FILTER_KEYS) raw[k] = params.getAll(k);
  const stream = params.get('stream');
  return {
    filters: normalizeFilters(raw),
    q: (params.get('q') ?? '').trim(),
    stream: stream && stream.trim() !== '' ? stream.trim() : null,
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
 * Where the stream lives. In order: the page's `?stream=` parameter, the
 * content of <meta name="notifications-stream"> when not empty, else
 * "events" relative to the page (so /notifications/ uses
 * /notifications/events). Relative values resolve against `pageHref`.
 * Returns { url, source } with url a string and source one of "param",
 * "meta", "default"; or { error } (a sentence for the user) when the
 * configured value is not an http(s) URL.
 */
export function resolveStreamUrl({ pageHref, streamParam, metaContent }) {
  const candidates = [
    ['param', streamParam],
    ['meta', metaContent],
  ];
  for (const [source, value] of candidates) {
    if (typeof value !== 'string' || value.trim() === '') continue;
    let url;
    try {
      url = new URL(value.trim(), pageHref);
    } catch {
      return { error: `The stream URL from the ${source === 'param' ? '?stream= parameter' : 'page configuration'} is not a valid URL.` };
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      return { error: `The stream URL from the ${source === 'param' ? '?stream= parameter' : 'page configuration'} must use http or https.` };
    }
    url.hash = '';
    return { url: url.href, source };
  }
  const url = new URL('events', pageHref);
  return { url: url.href, source: 'default' };
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
