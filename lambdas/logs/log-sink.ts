import { Logger } from '@aws-lambda-powertools/logger';

/**
 * Where structured lines go: stdout as one JSON object per line (CloudWatch Logs in Lambda,
 * the terminal locally). Metric filters in the stack read these lines.
 */
export interface LogSink {
  info(message: string, fields: Record<string, unknown>): void;
  warn(message: string, fields: Record<string, unknown>): void;
  error(message: string, fields: Record<string, unknown>): void;
}

export function createStdoutSink(serviceName: string): LogSink {
  const logger = new Logger({ serviceName, logLevel: (process.env.LOG_LEVEL as 'INFO' | undefined) ?? 'INFO' });
  return {
    info: (message, fields) => logger.info(message, fields),
    warn: (message, fields) => logger.warn(message, fields),
    error: (message, fields) => logger.error(message, fields),
  };
}

/** A sink that keeps every line (as its JSON text) and forwards it; for tests and benchmarks. */
export function createRecordingSink(forward?: LogSink): LogSink & { lines: string[] } {
  const lines: string[] = [];
  const record = (level: string) => (message: string, fields: Record<string, unknown>) => {
    lines.push(JSON.stringify({ level, message, ...fields }));
    (forward as unknown as Record<string, (m: string, f: Record<string, unknown>) => void> | undefined)?.[
      level.toLowerCase()
    ]?.(message, fields);
  };
  return { lines, info: record('INFO'), warn: record('WARN'), error: record('ERROR') };
}

export function createSilentSink(): LogSink {
  const noop = () => {};
  return { info: noop, warn: noop, error: noop };
}
