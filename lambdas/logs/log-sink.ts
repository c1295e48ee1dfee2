import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';

/**
 * Where structured lines go: stdout as one JSON object per line (CloudWatch Logs in Lambda,
 * the terminal locally). Metric filters in the stack read these lines.
 */
export interface LogSink {
  info(message: string, fields: Record<string, unknown>): void;
  warn(message: string, fields: Record<string, unknown>): void;
  error(message: string, fields: Record<string, unknown>): void;
  /**
   * Starts an invocation: its lines then carry the Lambda context (`function_request_id`,
   * `cold_start`, ...) and `correlation_id`, the API Gateway request id of the access log.
   */
  beginRequest?(request: { lambdaContext?: Context; correlationId?: string }): void;
}

/**
 * The lines metrics, alarms and the audit trail are made of: printed at every log level, so a
 * quieter `LOG_LEVEL` can never turn the drain signal into a false zero.
 */
export const ALWAYS_PRINTED_MESSAGES: ReadonlySet<string> = new Set(['auth_event', 'upstream_call']);

const LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR'] as const;

/**
 * `level` (default `LOG_LEVEL`, else INFO) filters diagnostic lines only; auth events and
 * upstream calls are always printed. The stack leaves Lambda's own filter at INFO for the same reason.
 */
export function createStdoutSink(serviceName: string, level: string | undefined = process.env.LOG_LEVEL): LogSink {
  const logger = new Logger({ serviceName, logLevel: 'INFO' });
  const threshold = Math.max(0, LEVELS.indexOf((level ?? 'INFO').toUpperCase() as (typeof LEVELS)[number]));
  const printsInfo = threshold <= LEVELS.indexOf('INFO');
  const printsWarn = threshold <= LEVELS.indexOf('WARN');
  return {
    info: (message, fields) => {
      if (printsInfo || ALWAYS_PRINTED_MESSAGES.has(message)) logger.info(message, fields);
    },
    warn: (message, fields) => {
      if (printsWarn) logger.warn(message, fields);
    },
    error: (message, fields) => logger.error(message, fields),
    beginRequest: ({ lambdaContext, correlationId }) => {
      logger.resetKeys();
      if (lambdaContext) logger.addContext(lambdaContext);
      if (correlationId) logger.setCorrelationId(correlationId);
    },
  };
}

/**
 * A Lambda handler whose every log line carries the invocation's context and the API Gateway
 * `requestId` as `correlation_id`, joinable with the access log's `requestId`.
 */
export function correlateRequests<E extends { requestContext?: { requestId?: string } }, R>(
  sink: LogSink,
  handler: (event: E, context: Context) => Promise<R>,
): (event: E, context: Context) => Promise<R> {
  return (event, context) => {
    sink.beginRequest?.({ lambdaContext: context, correlationId: event?.requestContext?.requestId });
    return handler(event, context);
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
