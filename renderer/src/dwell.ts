/**
 * Dwell time: how long each answer was readable, counted only while it is on screen and the
 * window is both visible and focused. An answer is measured from its first token (people read
 * while it streams). Its time is taken when the reader seems done with it (put aside, page left)
 * and may be taken again, under the same event id, if it was read on after that; it is closed for
 * good when the reader moves on (next question, Regenerate, New chat) (renderer/README.md).
 */

export interface DwellOptions {
  /** The reader seems done with an answer: it is ready, has unsent reading time, and is handed over here. */
  onSettled: (key: string) => void;
  /** Milliseconds on a monotonic clock. */
  now?: () => number;
  /**
   * How long a read answer must stay unread (scrolled away, window blurred or hidden) before its
   * dwell is sent without waiting for the next question.
   */
  restMs?: number;
  /** Longer is not reading any more (the engine refuses more than a day); counting stops here. */
  capSeconds?: number;
  /** An answer already taken is taken again only once its total has grown by this much. */
  resendSeconds?: number;
}

interface Entry {
  inView: boolean;
  /** The answer has an interaction to attach its dwell to (finished streaming). */
  ready: boolean;
  /** Nothing more is counted or taken: the reader moved on, or the answer has no interaction. */
  closed: boolean;
  /** Time counted so far, not including the running stretch. */
  ms: number;
  /** Start of the running stretch, while counting. */
  since: number | null;
  /** The total last taken, in milliseconds; null until taken. */
  takenMs: number | null;
  timer: ReturnType<typeof setTimeout> | null;
}

export const dwellDefaults = { restMs: 60_000, capSeconds: 3600, resendSeconds: 5 };

export class DwellTracker {
  private readonly entries = new Map<string, Entry>();
  private pageActive = false;
  private readonly now: () => number;
  private readonly restMs: number;
  private readonly capMs: number;
  private readonly resendMs: number;

  constructor(private readonly options: DwellOptions) {
    this.now = options.now ?? (() => performance.now());
    this.restMs = options.restMs ?? dwellDefaults.restMs;
    this.capMs = (options.capSeconds ?? dwellDefaults.capSeconds) * 1000;
    this.resendMs = (options.resendSeconds ?? dwellDefaults.resendSeconds) * 1000;
  }

  /** Whether the window is visible and focused. */
  setPageActive(active: boolean): void {
    if (active === this.pageActive) return;
    this.pageActive = active;
    for (const key of this.entries.keys()) this.refresh(key);
  }

  /** Whether enough of the answer is on screen to be read. */
  setInView(key: string, inView: boolean): void {
    const entry = this.entry(key);
    if (entry.inView === inView) return;
    entry.inView = inView;
    this.refresh(key);
  }

  /** The answer finished: from now on its dwell can be taken, and settles on its own. */
  ready(key: string): void {
    this.entry(key).ready = true;
    this.refresh(key);
  }

  /** The answer will never have an interaction to report on (stopped, failed). */
  discard(key: string): void {
    this.close(key);
  }

  /** The reader moved on from the answer: stops counting it for good; nothing more is taken. */
  close(key: string): void {
    const entry = this.entries.get(key);
    if (!entry || entry.closed) return;
    entry.closed = true;
    this.refresh(key);
  }

  /** Seconds read so far, capped. */
  seconds(key: string): number {
    const entry = this.entries.get(key);
    if (!entry) return 0;
    return this.currentMs(entry) / 1000;
  }

  /**
   * The seconds read so far, to a tenth, when they are worth sending: the first time (if not
   * zero), or again once they have grown by `resendSeconds`; null otherwise, or if the answer
   * is not ready or closed. Counting goes on until the answer is closed.
   */
  take(key: string): number | null {
    const entry = this.entries.get(key);
    if (!entry || !this.due(entry)) return null;
    this.refresh(key); // folds the running stretch into `ms`
    entry.takenMs = entry.ms;
    this.refresh(key); // re-arms the timers: nothing is unsent now
    return tenths(entry.ms);
  }

  /** Ready, open answers with reading time not taken yet (see `take`). */
  pending(): string[] {
    return [...this.entries].filter(([, entry]) => this.due(entry)).map(([key]) => key);
  }

  /** Ready and open answers, whatever they have to send. */
  open(): string[] {
    return [...this.entries].filter(([, entry]) => entry.ready && !entry.closed).map(([key]) => key);
  }

  private currentMs(entry: Entry): number {
    return Math.min(this.capMs, entry.ms + (entry.since === null ? 0 : this.now() - entry.since));
  }

  private due(entry: Entry): boolean {
    if (!entry.ready || entry.closed) return false;
    const ms = this.currentMs(entry);
    return entry.takenMs === null ? tenths(ms) > 0 : ms - entry.takenMs >= this.resendMs;
  }

  private entry(key: string): Entry {
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { inView: false, ready: false, closed: false, ms: 0, since: null, takenMs: null, timer: null };
      this.entries.set(key, entry);
    }
    return entry;
  }

  /** Closes or opens the running stretch after any change, and re-arms the settle timer. */
  private refresh(key: string): void {
    const entry = this.entry(key);
    const now = this.now();
    if (entry.since !== null) {
      entry.ms = Math.min(this.capMs, entry.ms + now - entry.since);
      entry.since = null;
    }
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = null;
    if (entry.closed) return;
    const counting = entry.inView && this.pageActive && entry.ms < this.capMs;
    if (counting) entry.since = now;
    if (!entry.ready) return;
    // While read: settle at the cap. Once put aside with unsent reading time: settle after a rest.
    const wait = counting ? this.capMs - entry.ms : this.due(entry) ? this.restMs : null;
    if (wait !== null) entry.timer = setTimeout(() => this.options.onSettled(key), wait);
  }
}

/** Whole tenths of a second: the same reading time reads the same if it is sent again. */
function tenths(ms: number): number {
  return Math.round(ms / 100) / 10;
}

/** What fraction of an answer must be readable: half of it, or a third of the screen for a long one. */
export function readable(entry: Pick<IntersectionObserverEntry, 'isIntersecting' | 'intersectionRatio' | 'intersectionRect' | 'rootBounds'>): boolean {
  if (!entry.isIntersecting) return false;
  if (entry.intersectionRatio >= 0.5) return true;
  return entry.rootBounds !== null && entry.intersectionRect.height >= entry.rootBounds.height / 3;
}

const thresholds = Array.from({ length: 11 }, (_, index) => index / 10);

/**
 * Reports whether `element` is readable now and whenever that changes. Where IntersectionObserver
 * is missing (jsdom, very old engines) an answer on the page counts as in view: the window's own
 * visibility and focus still bound the time.
 */
export function watchInView(element: Element, onChange: (inView: boolean) => void): () => void {
  if (typeof IntersectionObserver === 'undefined') {
    onChange(true);
    return () => onChange(false);
  }
  const observer = new IntersectionObserver(
    (entries) => {
      const latest = entries.at(-1);
      if (latest) onChange(readable(latest));
    },
    { threshold: thresholds },
  );
  observer.observe(element);
  return () => {
    observer.disconnect();
    onChange(false);
  };
}

export interface PageHooks {
  /** The window became visible and focused, or stopped being either. */
  onActive: (active: boolean) => void;
  /** The page is going away (closed, reloaded, navigated from). */
  onLeave: () => void;
}

/** Follows the window's visibility and focus, and its unloading; returns the unsubscribe. */
export function watchPage({ onActive, onLeave }: PageHooks): () => void {
  const visible = () => document.visibilityState === 'visible';
  const update = () => onActive(visible() && document.hasFocus());
  // The focus events say it directly; document.hasFocus() may not have caught up inside them.
  const onFocus = () => onActive(visible());
  const onBlur = () => onActive(false);
  update();
  document.addEventListener('visibilitychange', update);
  window.addEventListener('focus', onFocus);
  window.addEventListener('blur', onBlur);
  window.addEventListener('pageshow', update);
  window.addEventListener('pagehide', onLeave);
  return () => {
    document.removeEventListener('visibilitychange', update);
    window.removeEventListener('focus', onFocus);
    window.removeEventListener('blur', onBlur);
    window.removeEventListener('pageshow', update);
    window.removeEventListener('pagehide', onLeave);
  };
}
