/**
 * A job that runs now and then every interval, and whenever it is woken: the access-request scheduler and the
 * workflow worker. Runs never overlap in one process (each waits for the one before, whether it failed or not);
 * a failed run is reported and the next one happens anyway; stop() waits for the run in progress.
 */
export type Periodic<T> = {
  /** Runs once more, after the run in progress; resolves with its result. */
  runNow(): Promise<T>;
  /** Asks for a run soon: several wake-ups during one run make one more run, not several. */
  wake(): void;
  stop(): Promise<void>;
};

export function startPeriodic<T>(options: {
  run: () => Promise<T>;
  /** What `runNow` chains onto before the first run. */
  idle: T;
  /** Between the end of one run and the start of the next; 0: no timer (runs only when asked or woken). */
  intervalMs: number;
  /** Run once at start even without a timer (the scheduler catches up on what fell due while it was down). */
  runAtStart: boolean;
  onError: (error: unknown) => void;
  /** After each timed run: how late it started and how long it took, in seconds (real time, not the clock). */
  onTimedRun?: (lagSeconds: number, durationSeconds: number) => void;
}): Periodic<T> {
  const { run, intervalMs } = options;
  let running: Promise<T> = Promise.resolve(options.idle);
  let queued = false;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const runNow = () => {
    running = running.then(run, run);
    running.catch(options.onError);
    return running;
  };
  const wake = () => {
    if (stopped || queued) return;
    queued = true;
    void running
      .finally(() => {
        queued = false;
        if (!stopped) void runNow().catch(() => undefined);
      })
      .catch(() => undefined);
  };
  // Real time, not the injected clock: lag is about this process keeping up, not about domain time.
  let dueAt = performance.now();
  const loop = () => {
    if (stopped) return;
    const startedAt = performance.now();
    void runNow()
      .catch(() => undefined)
      .finally(() => {
        options.onTimedRun?.((startedAt - dueAt) / 1000, (performance.now() - startedAt) / 1000);
        dueAt = performance.now() + intervalMs;
        if (!stopped && intervalMs > 0) timer = setTimeout(loop, intervalMs);
      });
  };
  if (intervalMs > 0 || options.runAtStart) loop();
  return {
    runNow,
    wake,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running.catch(() => undefined);
    },
  };
}
