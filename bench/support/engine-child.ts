import { startEmbeddedEngine, type EngineRequestSpan } from '../../bin/local/embedded-engine.js';

/** Child process of startEngineProcess(): serves the engine until told to stop. */
const served: EngineRequestSpan[] = [];
const engine = await startEmbeddedEngine({
  onRequestServed: (span) => {
    served.push(span);
    if (served.length > 20_000) served.splice(0, 10_000);
  },
});
process.send?.({ endpoint: engine.endpoint });
// Asked for the requests served since a time: answers them (see EngineProcess.servedSince).
process.on('message', (m: { servedSince?: number; id?: number }) => {
  if (typeof m?.servedSince === 'number') process.send?.({ id: m.id, served: served.filter((s) => s.endMs >= m.servedSince!) });
});
process.on('SIGTERM', async () => {
  await engine.close();
  process.exit(0);
});
