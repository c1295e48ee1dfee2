import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * The embedded engine in a child process: DynamoDB is a separate service, so its CPU time should
 * not compete with the handler's (bcrypt above all) in the measured process.
 */
export async function startEngineProcess(): Promise<{ endpoint: string; close(): Promise<void> }> {
  const child = fork(fileURLToPath(new URL('./engine-child.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const endpoint = await new Promise<string>((resolve, reject) => {
    child.once('message', (m) => resolve(String((m as { endpoint: string }).endpoint)));
    child.once('exit', (code) => reject(new Error(`engine process exited with ${code}`)));
  });
  return {
    endpoint,
    close: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
