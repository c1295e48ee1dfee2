import { BatchGetCommand, BatchWriteCommand, DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * A flow's DynamoDB requests recorded as the service sent them (document input and timing), to
 * be sent again on their own: what those requests cost through the service's client and engine
 * with nothing else around them, the store's floor under the flow's own cost.
 */
export interface RecordedRequest {
  command: string;
  input: Record<string, unknown>;
  startMs: number;
  endMs: number;
}

const documentCommands: Record<string, new (input: never) => unknown> = {
  GetItemCommand: GetCommand,
  PutItemCommand: PutCommand,
  UpdateItemCommand: UpdateCommand,
  DeleteItemCommand: DeleteCommand,
  QueryCommand: QueryCommand,
  BatchGetItemCommand: BatchGetCommand,
  BatchWriteItemCommand: BatchWriteCommand,
};

/** Records every request the document client sends from now on; `take` hands over what was recorded since the last take. */
export interface StoreRecorder {
  take(): RecordedRequest[];
}

export function recordStoreRequests(db: DynamoDBDocumentClient): StoreRecorder {
  let recorded: RecordedRequest[] = [];
  db.middlewareStack.add(
    (next, context) => async (args) => {
      const request: RecordedRequest = { command: String(context.commandName), input: structuredClone(args.input as Record<string, unknown>), startMs: performance.now(), endMs: 0 };
      try {
        return await next(args);
      } finally {
        request.endMs = performance.now();
        recorded.push(request);
      }
    },
    { step: 'initialize', name: 'recordStoreRequests' },
  );
  return {
    take: () => {
      const taken = recorded;
      recorded = [];
      return taken;
    },
  };
}

/** The same value with every `pk` given a suffix: the requests touch items of their own, with the same shapes. */
function rekeyed(value: unknown, suffix: string): unknown {
  if (Array.isArray(value)) return value.map((v) => rekeyed(v, suffix));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === 'pk' && typeof v === 'string' ? `${v}${suffix}` : rekeyed(v, suffix)]));
}

/**
 * Sends the recorded requests again, each once the requests that had ended before it started
 * have ended again (side by side where they were), on items of their own; a refused condition
 * counts as sent. Resolves with how long they took together.
 */
export async function replayStoreRequests(db: DynamoDBDocumentClient, requests: RecordedRequest[], suffix: string): Promise<number> {
  const started = performance.now();
  const sent: Promise<unknown>[] = [];
  for (const r of requests) {
    const before = requests.filter((o) => o.endMs <= r.startMs).map((o) => sent[requests.indexOf(o)]);
    const Command = documentCommands[r.command];
    if (!Command) throw new Error(`no document command for ${r.command}`);
    sent.push(Promise.all(before).then(() => db.send(new Command(rekeyed(r.input, suffix) as never) as never).catch(() => undefined)));
  }
  await Promise.all(sent);
  return performance.now() - started;
}
