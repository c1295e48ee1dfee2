import { startEmbeddedEngine } from '../../bin/local/embedded-engine.js';

/** Child process of startEngineProcess(): serves the engine until told to stop. */
const engine = await startEmbeddedEngine();
process.send?.({ endpoint: engine.endpoint });
process.on('SIGTERM', async () => {
  await engine.close();
  process.exit(0);
});
