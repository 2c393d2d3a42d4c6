// Desktop notifications: the user's opt-in, the remembered choice, and the
// batching of what arrives into few notifications.
//
// Everything from the browser is injected (the Notification class, the
// storage, timers, focusing the window), so node tests drive it with fakes.
// Not shared between pages: one notifier per page, used from its event loop.
//
// Rules (docs/page.md, "Desktop notifications"):
// - the permission is asked only from toggle(), i.e. after the user's click;
// - the choice is remembered in storage under DESKTOP_KEY ("on" or absent);
//   a storage that is missing or throws (disabled cookies, quota) makes the
//   choice last for this page only;
// - what push() receives within DESKTOP_DELAY_MS becomes one notification:
//   a single one names its service and origin, a burst is one summary.
//   Whether a notification is worth pushing (tab hidden, not a backlog) is
//   the caller's decision.

import { originLabel, serviceLabel } from './format.js';

/** Storage key of the opt-in. */
export const DESKTOP_KEY = 'nasqueron-notifications.desktop';
/** Notifications arriving within this many ms are shown as one. */
export const DESKTOP_DELAY_MS = 1000;

/**
 * The title, body and tag of the desktop notification for `batch` (one or
 * more normalized notifications, oldest first). Pure.
 */
export function desktopMessage(batch) {
  if (batch.length === 1) {
    const n = batch[0];
    return {
      title: `${serviceLabel(n.service)} · ${originLabel(n.project, n.group)}`,
      body: n.text ?? n.type ?? '',
      tag: `nasqueron-${n.id}`,
    };
  }
  // A burst (e.g. a backlog after a reset) is one notification, not fifty.
  return {
    title: `${batch.length} new Nasqueron notifications`,
    body: batch
      .slice(-3)
      .reverse()
      .map((n) => `${serviceLabel(n.service)}: ${n.text ?? n.type ?? ''}`)
      .join('\n'),
    tag: 'nasqueron-batch',
  };
}

/**
 * @param {object} options
 * @param {Function|null} options.Notification  the browser's Notification
 *     class, or null where there is none.
 * @param {Storage|null} options.storage  getItem/setItem/removeItem (may throw), or null.
 * @param {Function} options.setTimeout  and clearTimeout: the page's timers.
 * @param {() => void} [options.focus]  brings the page forward (window.focus).
 * @param {string} [options.icon]  icon URL, relative to the page.
 * Returns { mode(), toggle(), push(n), stop() }.
 */
export function createDesktopNotifier({
  Notification: NotificationClass = null,
  storage = null,
  setTimeout: setTimer,
  clearTimeout: clearTimer,
  focus = () => {},
  icon = 'img/favicon.svg',
}) {
  const supported = typeof NotificationClass === 'function';
  const granted = () => supported && NotificationClass.permission === 'granted';

  function load() {
    try {
      return storage ? storage.getItem(DESKTOP_KEY) : null;
    } catch {
      return null;
    }
  }

  function save(on) {
    try {
      if (!storage) return;
      if (on) storage.setItem(DESKTOP_KEY, 'on');
      else storage.removeItem(DESKTOP_KEY);
    } catch {
      // storage disabled: the opt-in lasts for this page only
    }
  }

  let enabled = granted() && load() === 'on';
  let queue = [];
  let timer = null;

  /** 'unsupported' | 'denied' | 'off' | 'on', for the button. */
  function mode() {
    if (!supported) return 'unsupported';
    if (NotificationClass.permission === 'denied') return 'denied';
    return enabled && granted() ? 'on' : 'off';
  }

  /** The user's click: turn on (asking the permission if needed) or off. Resolves to mode(). */
  async function toggle() {
    if (!supported) return mode();
    if (enabled) {
      enabled = false;
    } else {
      let permission = NotificationClass.permission;
      // Asked only here, after the user's click, as browsers require.
      if (permission === 'default') permission = await NotificationClass.requestPermission();
      enabled = permission === 'granted';
    }
    save(enabled);
    return mode();
  }

  function flush() {
    timer = null;
    const batch = queue;
    queue = [];
    if (!enabled || batch.length === 0 || !granted()) return;
    const { title, body, tag } = desktopMessage(batch);
    try {
      const shown = new NotificationClass(title, { body, tag, icon });
      shown.onclick = () => {
        focus();
        shown.close();
      };
    } catch {
      // Some browsers (Chrome on Android) only allow them from a service worker.
    }
  }

  /** Queues one normalized notification; shown after DESKTOP_DELAY_MS with the others. */
  function push(n) {
    if (!enabled) return;
    queue.push(n);
    if (timer === null) timer = setTimer(flush, DESKTOP_DELAY_MS);
  }

  /** Drops what is queued (the page is going away). */
  function stop() {
    if (timer !== null) clearTimer(timer);
    timer = null;
    queue = [];
  }

  return { mode, toggle, push, stop };
}
