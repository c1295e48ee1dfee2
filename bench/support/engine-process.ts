import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { EngineRequestSpan } from '../../bin/local/embedded-engine.js';

export interface EngineProcess {
  endpoint: string;
  /**
   * The requests the engine served (arrival to answer) ending at or after `sinceMs`, in this
   * process's `performance.now()` time: what the engine itself spent, apart from the client's
   * work and the network.
   */
  servedSince(sinceMs: number): Promise<EngineRequestSpan[]>;
  close(): Promise<void>;
}

/**
 * The embedded engine in a child process: DynamoDB is a separate service, so its CPU time should
 * not compete with the handler's (bcrypt above all) in the measured process.
 */
export async function startEngineProcess(): Promise<EngineProcess> {
  const child = fork(fileURLToPath(new URL('./engine-child.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const endpoint = await new Promise<string>((resolve, reject) => {
    child.once('message', (m) => resolve(String((m as { endpoint: string }).endpoint)));
    child.once('exit', (code) => reject(new Error(`engine process exited with ${code}`)));
  });
  let asked = 0;
  // Both processes' clocks are the machine's: a time moves between them through `timeOrigin`.
  const toEpoch = (ms: number) => performance.timeOrigin + ms;
  const fromEpoch = (ms: number) => ms - performance.timeOrigin;
  return {
    endpoint,
    servedSince: (sinceMs) =>
      new Promise((resolve) => {
        const id = ++asked;
        const answer = (m: { id?: number; served?: EngineRequestSpan[] }) => {
          if (m?.id !== id) return;
          child.off('message', answer);
          resolve((m.served ?? []).map((s) => ({ startMs: fromEpoch(s.startMs), endMs: fromEpoch(s.endMs) })));
        };
        child.on('message', answer);
        child.send({ servedSince: toEpoch(sinceMs), id });
      }),
    close: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
