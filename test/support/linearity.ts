/**
 * Time-budget checks for regular-expression denial of service, as ratios (never absolute times: the machine is
 * shared). `work` runs on a benign and an adversarial input of the same length; the adversarial one must not take
 * more than `maxRatio` times the benign one. The best of a few runs is compared, so that a pause elsewhere on the
 * machine does not decide the outcome; a small floor keeps sub-millisecond noise from looking like a ratio.
 */
export async function slowdownRatio(work: (input: string) => unknown | Promise<unknown>, benign: string, adversarial: string, runs = 3): Promise<number> {
  if (benign.length !== adversarial.length) throw new Error(`inputs differ in length: ${benign.length} vs ${adversarial.length}`);
  const best = async (input: string) => {
    let min = Infinity;
    for (let i = 0; i < runs; i++) {
      const started = performance.now();
      await work(input);
      min = Math.min(min, performance.now() - started);
    }
    return min;
  };
  await work(benign); // warm-up: JIT, caches, connection
  const b = await best(benign);
  const a = await best(adversarial);
  return a / Math.max(b, 0.5);
}

/** `s` padded (or cut) to exactly `length` characters with `fill`. */
export const fit = (s: string, length: number, fill = 'A') => (s.length >= length ? s.slice(0, length) : s + fill.repeat(length - s.length));
