import { describe, expect, it } from 'vitest';
import { startPeriodic } from '../../src/lib/periodic.ts';

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('startPeriodic (the scheduler and the workflow worker)', () => {
  it('runs never overlap, a failed run does not stop the next, and stop() waits for the run in progress', async () => {
    let active = 0;
    let maxActive = 0;
    let n = 0;
    const errors: unknown[] = [];
    const p = startPeriodic({
      run: async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        await tick();
        active--;
        n++;
        if (n === 2) throw new Error('boom');
        return n;
      },
      idle: 0,
      intervalMs: 0,
      runAtStart: false,
      onError: (e) => errors.push(e),
    });
    const results = await Promise.allSettled([p.runNow(), p.runNow(), p.runNow()]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(maxActive).toBe(1);
    expect(errors).toHaveLength(1);
    const last = p.runNow();
    await p.stop();
    expect(active).toBe(0);
    expect(await last).toBe(4);
  });

  it('wake-ups during a run make one more run; without an interval nothing runs unless asked, or once at start', async () => {
    let runs = 0;
    const p = startPeriodic({ run: async () => { runs++; await tick(); return runs; }, idle: 0, intervalMs: 0, runAtStart: false, onError: () => {} });
    await tick();
    expect(runs).toBe(0);
    const first = p.runNow();
    p.wake();
    p.wake();
    p.wake();
    await first;
    await tick();
    await tick();
    expect(runs).toBe(2);
    await p.stop();
    p.wake();
    await tick();
    expect(runs).toBe(2);

    let started = 0;
    const q = startPeriodic({ run: async () => ++started, idle: 0, intervalMs: 0, runAtStart: true, onError: () => {} });
    await q.stop();
    expect(started).toBe(1);
  });

  it('with an interval, runs again after each run ends and reports lag and duration; stop() ends the timer', async () => {
    const timed: number[][] = [];
    let runs = 0;
    const p = startPeriodic({ run: async () => ++runs, idle: 0, intervalMs: 10, runAtStart: false, onError: () => {}, onTimedRun: (lag, took) => timed.push([lag, took]) });
    await new Promise((r) => setTimeout(r, 60));
    await p.stop();
    const after = runs;
    expect(after).toBeGreaterThanOrEqual(2);
    expect(timed.length).toBeGreaterThanOrEqual(2);
    for (const [lag, took] of timed) expect(lag >= -0.05 && took >= 0).toBe(true);
    await new Promise((r) => setTimeout(r, 30));
    expect(runs).toBe(after);
  });
});
