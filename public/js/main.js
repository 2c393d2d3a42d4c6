// Wiring, as TodoMVC's app.js: read the page's configuration, build the
// view, the desktop notifier, the controller and the stream, and connect
// them to the browser's events. What happens lives in controller.js and
// state.js, what it looks like in view.js.

import { createController } from './controller.js';
import { createDesktopNotifier } from './desktop.js';
import { createState } from './state.js';
import { SharedStream, canShare, sharedName } from './shared.js';
import { StreamManager } from './stream.js';
import { DEFAULT_BACKLOG, SHARED_BACKLOG, buildStreamUrl, parsePageParams, resolveStreamUrl } from './url.js';
import { createView } from './view.js';

const AGE_REFRESH_MS = 30 * 1000;

const meta = (name) => document.querySelector(`meta[name="${name}"]`)?.getAttribute('content') ?? null;
const timers = { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (id) => clearTimeout(id) };
const isHidden = () => document.visibilityState === 'hidden';
let storage = null;
try {
  storage = window.localStorage;
} catch {
  // storage disabled: preferences last for this page only
}

const params = parsePageParams(window.location.search);
// Tabs share one stream where the browser can (Web Locks need a secure context).
const shared = canShare({ BroadcastChannel: window.BroadcastChannel, locks: navigator.locks });
const view = createView(document, { kiosk: params.kiosk });
const app = createController({
  view,
  desktop: createDesktopNotifier({ Notification: window.Notification ?? null, storage, ...timers, focus: () => window.focus() }),
  state: createState({ filters: params.filters, q: params.q, hidden: isHidden(), filterInPage: shared, startedAt: Date.now() }),
  now: () => Date.now(),
  ...timers,
  isHidden,
  location: window.location,
  replaceUrl: (url) => window.history.replaceState(window.history.state, '', url),
});
app.start();

const resolved = resolveStreamUrl({
  pageHref: window.location.href,
  streamParam: params.stream,
  metaContent: meta('notifications-stream'),
  originsContent: meta('notifications-stream-origins'),
});
if (resolved.error) {
  view.showFatal(resolved.error, resolved.refused ? 'refused' : 'error');
} else if (typeof window.EventSource !== 'function') {
  view.showFatal('This browser cannot receive live notifications (no EventSource).');
} else {
  // One EventSource; shared: unfiltered (each tab filters), else with the filters.
  const manager = ({ onEvent, onStatus }, filtered) => {
    const m = new StreamManager({
      buildUrl: (lastEventId) =>
        buildStreamUrl(resolved.url, filtered ? app.state.filters : {}, { backlog: filtered ? DEFAULT_BACKLOG : SHARED_BACKLOG, lastEventId }),
      EventSource: window.EventSource,
      onEvent,
      onStatus: (status, retryInMs) => onStatus(status, retryInMs, { fresh: m.lastEventId === null }),
      isOnline: () => navigator.onLine !== false,
    });
    return m;
  };
  const callbacks = { onEvent: (type, event) => app.streamEvent(type, event), onStatus: (...a) => app.streamStatus(...a) };
  const stream = shared
    ? new SharedStream({
        name: sharedName(resolved.url),
        BroadcastChannel: window.BroadcastChannel,
        locks: navigator.locks,
        createStream: (cb) => manager(cb, false),
        ...callbacks,
        ...timers,
        tabId: crypto.randomUUID(),
      })
    : manager(callbacks, true);
  app.attachStream(stream);
  stream.start();

  window.addEventListener('online', () => stream.online());
  window.addEventListener('offline', () => stream.offline());
  // Leaving the page (or entering the back/forward cache) closes the stream;
  // coming back from that cache resumes after the last id.
  window.addEventListener('pagehide', () => stream.stop());
  window.addEventListener('pageshow', (e) => e.persisted && stream.resume());
}
document.addEventListener('visibilitychange', () => app.visibility(isHidden()));
setInterval(() => app.tick(), AGE_REFRESH_MS);
