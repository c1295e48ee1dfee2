import { startLocalServer } from '../../bin/local/server.js';
import { createSilentSink, createStdoutSink } from '../../lambdas/logs/log-sink.js';
import { createRoundTripCounter } from '../../lambdas/store/dynamo-client.js';

/**
 * One local server process of a fleet (see ./server-fleet.ts): the engine and the secret file
 * are shared with the others, as Lambda instances share the table and Secrets Manager.
 * Answers `{ stats: true }` with its DynamoDB round trips; stops on SIGTERM.
 */
const options = JSON.parse(process.argv[2] ?? '{}') as { dynamoEndpoint: string; dataDir: string; config?: Record<string, unknown> };
const counter = createRoundTripCounter();
const server = await startLocalServer({
  dynamoEndpoint: options.dynamoEndpoint,
  dataDir: options.dataDir,
  sink: process.env.FLEET_LOG ? createStdoutSink('fleet') : createSilentSink(),
  counter,
  config: { bcryptCost: 4, ...options.config },
});
process.on('message', (m) => {
  if ((m as { stats?: boolean }).stats) {
    process.send?.({ stats: { count: counter.count, byOperation: counter.byOperation, budget: server.deps.upstreamBudget.cost } });
  }
});
process.on('SIGTERM', () => {
  void server.close().finally(() => process.exit(0));
});
process.send?.({ url: server.url });
