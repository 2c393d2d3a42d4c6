// Formatting: turning notification fields into the words the page shows.
// Pure functions; locale and time zone are parameters so tests are
// deterministic (the page passes the browser's own, i.e. undefined).

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Base title of the page; kept here so the view and tests agree. */
export const PAGE_TITLE = 'Nasqueron notifications';

/**
 * Badge family for a service name: "github", "jenkins", "phabricator",
 * "dockerhub" or "other" (anything unknown, empty or null). Case and
 * spaces do not matter ("Docker Hub" is "dockerhub").
 */
export function serviceSlug(service) {
  const s = String(service ?? '').toLowerCase().replace(/[^a-z0-9]/g, '');
  if (s === 'github') return 'github';
  if (s === 'jenkins') return 'jenkins';
  if (s === 'phabricator') return 'phabricator';
  if (s === 'dockerhub' || s === 'docker') return 'dockerhub';
  return 'other';
}

/** The service as shown in its badge: the server's string, or "Unknown". */
export function serviceLabel(service) {
  const s = typeof service === 'string' ? service.trim() : '';
  return s === '' ? 'Unknown' : s;
}

/** "Nasqueron / ops", "Nasqueron" when there is no group, "—" when neither. */
export function originLabel(project, group) {
  const p = typeof project === 'string' ? project.trim() : '';
  const g = typeof group === 'string' ? group.trim() : '';
  if (p && g) return `${p} / ${g}`;
  return p || g || '—';
}

/**
 * Relative age of `thenMs` seen at `nowMs`: "just now", "42 s ago",
 * "3 min ago", "2 h ago", "5 days ago"; a time in the future (clock skew)
 * of less than a minute is "just now", more is "in 3 min".
 */
export function formatRelative(thenMs, nowMs) {
  const diff = nowMs - thenMs;
  if (!Number.isFinite(diff)) return '';
  const abs = Math.abs(diff);
  if (abs < 10 * SECOND) return 'just now';
  if (diff < 0 && abs < MINUTE) return 'just now';
  let amount;
  if (abs < MINUTE) amount = `${Math.floor(abs / SECOND)} s`;
  else if (abs < HOUR) amount = `${Math.floor(abs / MINUTE)} min`;
  else if (abs < DAY) amount = `${Math.floor(abs / HOUR)} h`;
  else {
    const days = Math.floor(abs / DAY);
    amount = `${days} ${days === 1 ? 'day' : 'days'}`;
  }
  return diff < 0 ? `in ${amount}` : `${amount} ago`;
}

// Creating an Intl.DateTimeFormat costs ~100x formatting with one: a list
// of 500 rows formatted with fresh ones took a whole second of main thread
// (tests/browser/burst.test.mjs). The formats are kept, keyed by kind,
// locale and time zone; a page uses a handful, the cap only guards
// against a caller cycling through time zones.
const FORMATS = {
  day: { year: 'numeric', month: '2-digit', day: '2-digit' },
  clock: { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' },
  hm: { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' },
  dayMonth: { day: 'numeric', month: 'short' },
  dayMonthYear: { day: 'numeric', month: 'short', year: 'numeric' },
  full: { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' },
};
const formatters = new Map();
const MAX_FORMATTERS = 64;

function formatter(kind, locale, timeZone) {
  const key = `${kind}\u0000${locale ?? ''}\u0000${timeZone ?? ''}`;
  let f = formatters.get(key);
  if (f === undefined) {
    if (formatters.size >= MAX_FORMATTERS) formatters.clear();
    // "day" is a fixed YYYY-MM-DD (en-CA) whatever the locale: for comparing days.
    f = new Intl.DateTimeFormat(kind === 'day' ? 'en-CA' : locale, { ...FORMATS[kind], timeZone });
    formatters.set(key, f);
  }
  return f;
}

const validTime = (ms) => typeof ms === 'number' && !Number.isNaN(new Date(ms).getTime());

function partsOf(ms, timeZone) {
  return formatter('day', undefined, timeZone).format(ms);
}

/**
 * Local time of a notification for its row: "14:03:27" when it is the same
 * local day as `nowMs`, else "27 Nov, 14:03" (with the year when it differs).
 */
export function formatClock(ms, nowMs, { locale, timeZone } = {}) {
  if (!validTime(ms)) return '';
  const day = partsOf(ms, timeZone);
  const today = validTime(nowMs) ? partsOf(nowMs, timeZone) : '';
  if (day === today) return formatter('clock', locale, timeZone).format(ms);
  const sameYear = day.slice(0, 4) === today.slice(0, 4);
  const date = formatter(sameYear ? 'dayMonth' : 'dayMonthYear', locale, timeZone).format(ms);
  return `${date}, ${formatter('hm', locale, timeZone).format(ms)}`;
}

/** Full local date and time, for the hover title: "Saturday 28 November 2026, 14:03:27". */
export function formatFull(ms, { locale, timeZone } = {}) {
  if (!validTime(ms)) return '';
  return formatter('full', locale, timeZone).format(ms);
}

/** The hover title of a row's time: "3 min ago · Saturday 28 November 2026, 14:03:27". */
export function timeTitle(ms, nowMs, options = {}) {
  return `${formatRelative(ms, nowMs)} · ${formatFull(ms, options)}`;
}

/**
 * A link the page may make clickable: only absolute http: and https: URLs.
 * Returns { href, label } (label: host and path without the scheme, for
 * display) or null for "", null, unparsable or any other scheme
 * (javascript:, data:, …), which the page shows as plain text.
 */
export function safeLink(link) {
  if (typeof link !== 'string' || link.trim() === '') return null;
  let url;
  try {
    url = new URL(link.trim());
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  let label = url.host + (url.pathname === '/' ? '' : url.pathname) + url.search + url.hash;
  if (url.username || url.password) label = url.href; // never hide credentials in a label
  return { href: url.href, label };
}

/** The tab title: "(3) Nasqueron notifications" when unseen > 0. */
export function pageTitle(unseen) {
  return unseen > 0 ? `(${unseen}) ${PAGE_TITLE}` : PAGE_TITLE;
}

/** "12 new" (for the pause buffer); "500+ new" once the buffer overflowed. */
export function newCountLabel(count, capped = false) {
  return `${count}${capped ? '+' : ''} new`;
}

/** The connection state in words, as shown beside its coloured dot. */
export function statusLabel(status, retryInMs = null) {
  switch (status) {
    case 'live':
      return 'Live';
    case 'connecting':
      return 'Connecting…';
    case 'reconnecting':
      if (Number.isFinite(retryInMs) && retryInMs > 0) {
        return `Reconnecting in ${Math.max(1, Math.round(retryInMs / 1000))} s…`;
      }
      return 'Reconnecting…';
    case 'offline':
      return 'Offline';
    case 'error':
      return 'Not configured';
    case 'refused':
      return 'Stream refused';
    default:
      return String(status);
  }
}

/** "1 notification", "42 notifications". */
export function countLabel(n, noun = 'notification') {
  return `${n} ${n === 1 ? noun : `${noun}s`}`;
}

/** A duration in words: "45 s", "12 min", "2 h 5 min", "3 days 4 h". */
export function formatDuration(ms) {
  const d = Math.max(0, Number.isFinite(ms) ? ms : 0);
  if (d < MINUTE) return `${Math.floor(d / SECOND)} s`;
  if (d < HOUR) return `${Math.floor(d / MINUTE)} min`;
  if (d < DAY) {
    const m = Math.floor((d % HOUR) / MINUTE);
    return `${Math.floor(d / HOUR)} h${m ? ` ${m} min` : ''}`;
  }
  const days = Math.floor(d / DAY);
  const h = Math.floor((d % DAY) / HOUR);
  return `${days} ${days === 1 ? 'day' : 'days'}${h ? ` ${h} h` : ''}`;
}

/**
 * The wall-screen banner while the stream is not live: "Stream down since
 * 14:03:27 (12 min) · Reconnecting in 8 s…", or "No stream yet since …"
 * when it never was live. `s`: { status, retryInMs, downSince, everLive }
 * (state.js). null when there is nothing to say (live, or time unknown).
 */
export function downBanner(s, nowMs, options = {}) {
  if (s.status === 'live' || !Number.isFinite(s.downSince)) return null;
  const since = `since ${formatClock(s.downSince, nowMs, options)} (${formatDuration(nowMs - s.downSince)})`;
  return `${s.everLive ? 'Stream down' : 'No stream yet'} ${since} · ${statusLabel(s.status, s.retryInMs)}`;
}
