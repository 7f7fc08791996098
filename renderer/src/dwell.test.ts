import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DwellTracker, readable, watchInView, watchPage } from './dwell.js';

describe('DwellTracker', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const tracker = (restMs = 30_000, capSeconds = 3600) => {
    const settled: string[] = [];
    const dwell = new DwellTracker({ now: () => Date.now(), restMs, capSeconds, onSettled: (key) => settled.push(key) });
    return { dwell, settled };
  };

  it('counts only while in view and the page is active, per answer', () => {
    const { dwell } = tracker();
    dwell.setInView('a', true);
    vi.advanceTimersByTime(5000); // page not active yet
    dwell.setPageActive(true);
    dwell.setInView('b', true);
    vi.advanceTimersByTime(2000);
    dwell.setInView('b', false);
    vi.advanceTimersByTime(1000);
    expect(dwell.seconds('a')).toBe(3);
    expect(dwell.seconds('b')).toBe(2);
    expect(dwell.seconds('never')).toBe(0);
  });

  it('takes an answer once it is ready, to a tenth, and not again until it has grown by resendSeconds', () => {
    const { dwell } = tracker();
    dwell.setPageActive(true);
    dwell.setInView('a', true);
    vi.advanceTimersByTime(1540);
    expect(dwell.take('a')).toBeNull();
    expect(dwell.pending()).toEqual([]);
    dwell.ready('a');
    expect(dwell.pending()).toEqual(['a']);
    expect(dwell.open()).toEqual(['a']);
    expect(dwell.take('a')).toBe(1.5);
    expect(dwell.take('a')).toBeNull();
    expect(dwell.pending()).toEqual([]);
    // Still counting: read on by 5 s (the default resendSeconds), it has a larger total to send.
    vi.advanceTimersByTime(4999);
    expect(dwell.take('a')).toBeNull();
    vi.advanceTimersByTime(1);
    expect(dwell.pending()).toEqual(['a']);
    expect(dwell.take('a')).toBe(6.5);
    expect(dwell.take('a')).toBeNull();
  });

  it('close stops counting an answer for good: nothing more is taken', () => {
    const { dwell, settled } = tracker(1000);
    dwell.setPageActive(true);
    dwell.setInView('a', true);
    dwell.ready('a');
    vi.advanceTimersByTime(2000);
    expect(dwell.take('a')).toBe(2);
    vi.advanceTimersByTime(6000);
    dwell.close('a');
    expect(dwell.open()).toEqual([]);
    expect(dwell.pending()).toEqual([]);
    expect(dwell.take('a')).toBeNull();
    vi.advanceTimersByTime(60_000);
    expect(dwell.seconds('a')).toBe(8);
    dwell.setInView('a', false);
    vi.advanceTimersByTime(60_000);
    expect(settled).toEqual([]);
    // An answer read too briefly to count has nothing to send.
    dwell.ready('blink');
    expect(dwell.open()).toEqual(['blink']);
    expect(dwell.take('blink')).toBeNull();
  });

  it('settles a ready answer after a rest from reading, not while it is read', () => {
    const { dwell, settled } = tracker(30_000);
    dwell.setPageActive(true);
    dwell.setInView('a', true);
    dwell.ready('a');
    vi.advanceTimersByTime(120_000);
    expect(settled).toEqual([]);
    dwell.setPageActive(false);
    vi.advanceTimersByTime(29_999);
    expect(settled).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(settled).toEqual(['a']);
    expect(dwell.take('a')).toBe(120);

    // Taken: a rest settles it again only if it was read on by resendSeconds since.
    dwell.setPageActive(true);
    vi.advanceTimersByTime(4000);
    dwell.setPageActive(false);
    vi.advanceTimersByTime(60_000);
    expect(settled).toEqual(['a']);
    dwell.setPageActive(true);
    vi.advanceTimersByTime(1000);
    dwell.setPageActive(false);
    vi.advanceTimersByTime(30_000);
    expect(settled).toEqual(['a', 'a']);
    expect(dwell.take('a')).toBe(125);
  });

  it('never settles an answer nobody saw, nor a discarded one', () => {
    const { dwell, settled } = tracker(1000);
    dwell.ready('unseen');
    dwell.setPageActive(true);
    dwell.setInView('gone', true);
    vi.advanceTimersByTime(1000);
    dwell.discard('gone');
    vi.advanceTimersByTime(10_000);
    expect(settled).toEqual([]);
    expect(dwell.take('gone')).toBeNull();
  });

  it('stops at the cap and settles there', () => {
    const { dwell, settled } = tracker(30_000, 60);
    dwell.setPageActive(true);
    dwell.setInView('a', true);
    dwell.ready('a');
    vi.advanceTimersByTime(60_000);
    expect(settled).toEqual(['a']);
    vi.advanceTimersByTime(60_000);
    expect(dwell.seconds('a')).toBe(60);
  });
});

describe('readable', () => {
  const rect = (height: number) => ({ height }) as DOMRectReadOnly;
  it('needs half the answer, or a third of the screen of a long one', () => {
    expect(readable({ isIntersecting: false, intersectionRatio: 0, intersectionRect: rect(0), rootBounds: rect(800) })).toBe(false);
    expect(readable({ isIntersecting: true, intersectionRatio: 0.6, intersectionRect: rect(60), rootBounds: rect(800) })).toBe(true);
    expect(readable({ isIntersecting: true, intersectionRatio: 0.1, intersectionRect: rect(20), rootBounds: rect(800) })).toBe(false);
    expect(readable({ isIntersecting: true, intersectionRatio: 0.2, intersectionRect: rect(400), rootBounds: rect(800) })).toBe(true);
    expect(readable({ isIntersecting: true, intersectionRatio: 0.2, intersectionRect: rect(400), rootBounds: null })).toBe(false);
  });
});

describe('watchInView', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('follows IntersectionObserver where there is one', () => {
    let report: IntersectionObserverCallback = () => undefined;
    const disconnect = vi.fn();
    const observe = vi.fn();
    vi.stubGlobal(
      'IntersectionObserver',
      class {
        constructor(callback: IntersectionObserverCallback) {
          report = callback;
        }
        observe = observe;
        disconnect = disconnect;
      },
    );
    const element = document.createElement('article');
    const seen: boolean[] = [];
    const stop = watchInView(element, (inView) => seen.push(inView));
    expect(observe).toHaveBeenCalledWith(element);
    const entry = (ratio: number) =>
      ({
        isIntersecting: ratio > 0,
        intersectionRatio: ratio,
        intersectionRect: { height: ratio * 100 },
        rootBounds: { height: 800 },
      }) as unknown as IntersectionObserverEntry;
    report([entry(1)], {} as IntersectionObserver);
    report([entry(0.8), entry(0.1)], {} as IntersectionObserver);
    stop();
    expect(seen).toEqual([true, false, false]);
    expect(disconnect).toHaveBeenCalled();
  });

  it('counts the answer as in view without IntersectionObserver (jsdom)', () => {
    expect(typeof IntersectionObserver).toBe('undefined');
    const seen: boolean[] = [];
    const stop = watchInView(document.createElement('article'), (inView) => seen.push(inView));
    stop();
    expect(seen).toEqual([true, false]);
  });
});

describe('watchPage', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('reports visible-and-focused, and leaving', () => {
    const focused = vi.spyOn(document, 'hasFocus').mockReturnValue(true);
    const visibility = vi.spyOn(document, 'visibilityState', 'get').mockReturnValue('visible');
    const active: boolean[] = [];
    const onLeave = vi.fn();
    const stop = watchPage({ onActive: (value) => active.push(value), onLeave });
    window.dispatchEvent(new Event('blur'));
    window.dispatchEvent(new Event('focus'));
    visibility.mockReturnValue('hidden');
    document.dispatchEvent(new Event('visibilitychange'));
    visibility.mockReturnValue('visible');
    focused.mockReturnValue(false);
    document.dispatchEvent(new Event('visibilitychange'));
    window.dispatchEvent(new Event('pagehide'));
    expect(active).toEqual([true, false, true, false, false]);
    expect(onLeave).toHaveBeenCalledTimes(1);

    stop();
    window.dispatchEvent(new Event('pagehide'));
    window.dispatchEvent(new Event('focus'));
    expect(onLeave).toHaveBeenCalledTimes(1);
    expect(active).toHaveLength(5);
  });
});
