/**
 * While a connection is in import mode, a wrong password of a user who already migrated is
 * answered locally (one bcrypt) and one of a user still upstream takes an upstream round trip
 * too: the difference says, in one request, whether an email has signed in since the flip. So
 * each instance keeps the recent answer times of upstream password rejections per connection
 * and pads local failures to their median. Per process: a cold instance pads nothing until it
 * has seen upstream answers (few samples are enough, the median is robust).
 */
const SAMPLES = 31;
const MAX_CONNECTIONS = 1000;
/** A padding never exceeds this, whatever an upstream outage made the samples. */
const MAX_PAD_MS = 3000;

export function createFailureTiming() {
  const samples = new Map<string, number[]>();
  let padding = true;
  return {
    /** Turns the padding off and on (the timing bench measures the gap both ways). */
    setPadding(on: boolean): void {
      padding = on;
    },
    /** Records how long a failure that the upstream answered took, from the start of the check. */
    recordUpstreamFailure(connectionKey: string, ms: number): void {
      let list = samples.get(connectionKey);
      if (!list) {
        if (samples.size >= MAX_CONNECTIONS) samples.delete(samples.keys().next().value!);
        list = [];
        samples.set(connectionKey, list);
      }
      list.push(ms);
      if (list.length > SAMPLES) list.shift();
    },
    /** The median of the recent upstream failures, or 0 without any. */
    typicalUpstreamFailureMs(connectionKey: string): number {
      const list = samples.get(connectionKey);
      if (!padding || !list?.length) return 0;
      const sorted = [...list].sort((a, b) => a - b);
      return Math.min(MAX_PAD_MS, sorted[Math.floor(sorted.length / 2)]);
    },
  };
}

export type FailureTiming = ReturnType<typeof createFailureTiming>;

/** One per process: the password check of every request of this instance shares it. */
export const failureTiming = createFailureTiming();

/** Waits until `startedAt + ms` (real time: padding is about what a client can measure). */
export async function padUntil(startedAt: number, ms: number): Promise<void> {
  const wait = startedAt + ms - performance.now();
  if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
}
