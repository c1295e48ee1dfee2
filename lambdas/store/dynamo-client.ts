import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** Counts DynamoDB round trips (one per HTTP request the SDK sends, retries included). */
export interface RoundTripCounter {
  count: number;
  byOperation: Record<string, number>;
}

export function createRoundTripCounter(): RoundTripCounter {
  return { count: 0, byOperation: {} };
}

export interface DocumentClientOptions {
  endpoint?: string;
  region?: string;
  counter?: RoundTripCounter;
}

/**
 * The document client every repository uses. Locally it points at the embedded engine;
 * in Lambda it uses the default credential chain. `removeUndefinedValues` keeps optional
 * profile fields from failing writes.
 */
export function createDocumentClient(opts: DocumentClientOptions = {}): DynamoDBDocumentClient {
  const config: DynamoDBClientConfig = { region: opts.region ?? process.env.AWS_REGION ?? 'us-east-1' };
  if (opts.endpoint) {
    config.endpoint = opts.endpoint;
    config.credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
  }
  const client = new DynamoDBClient(config);
  const counter = opts.counter;
  if (counter) {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        counter.count++;
        const op = String(context.commandName ?? 'unknown').replace(/Command$/, '');
        counter.byOperation[op] = (counter.byOperation[op] ?? 0) + 1;
        return next(args);
      },
      { step: 'finalizeRequest', name: 'countRoundTrips' },
    );
  }
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: true },
  });
}

export function isConditionalCheckFailed(err: unknown): boolean {
  return (err as { name?: string })?.name === 'ConditionalCheckFailedException';
}
