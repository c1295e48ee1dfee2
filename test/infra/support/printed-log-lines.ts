import { createRecordingSink, createStdoutSink, type LogSink } from '../../../lambdas/logs/log-sink.js';

export interface PrintedLogCapture {
  /** The sink to give the service: the handlers' own stdout sink (Powertools Logger), recorded too. */
  sink: LogSink;
  /**
   * Every line the Powertools Logger printed for this sink (INFO on stdout, WARN and ERROR on
   * stderr; Lambda sends both to CloudWatch Logs), byte for byte.
   */
  printed: string[];
  /** The same events as the recording sink kept them (the shape of a test service's `logLines`). */
  recorded: string[];
  /** Puts `process.stdout.write` and `process.stderr.write` back. */
  stop(): void;
}

type Write = NodeJS.WriteStream['write'];

/**
 * Captures the JSON lines that `createStdoutSink` prints (what the Lambda functions write to
 * CloudWatch Logs) by intercepting the writes of `process.stdout` and `process.stderr` while
 * the capture runs. Only chunks made entirely of lines printed for `serviceName` are kept;
 * every other write passes through unchanged.
 */
export function capturePrintedLogLines(serviceName: string, level?: string): PrintedLogCapture {
  const printed: string[] = [];
  const isOurs = (line: string) => {
    try {
      const value = JSON.parse(line) as { service?: unknown } | null;
      return value !== null && typeof value === 'object' && value.service === serviceName;
    } catch {
      return false;
    }
  };
  const intercept = (stream: NodeJS.WriteStream) => {
    const originalWrite = stream.write;
    stream.write = function write(this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]) {
      const text = typeof chunk === 'string' ? chunk : chunk instanceof Uint8Array ? Buffer.from(chunk).toString('utf8') : '';
      const lines = text.split('\n').filter((line) => line.trim() !== '');
      if (lines.length > 0 && lines.every(isOurs)) {
        printed.push(...lines);
        (rest.find((arg) => typeof arg === 'function') as (() => void) | undefined)?.();
        return true;
      }
      return (originalWrite as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
    } as Write;
    return () => {
      stream.write = originalWrite;
    };
  };
  const restores = [intercept(process.stdout), intercept(process.stderr)];

  const recording = createRecordingSink(createStdoutSink(serviceName, level));
  return {
    sink: recording,
    printed,
    recorded: recording.lines,
    stop: () => restores.forEach((restore) => restore()),
  };
}
