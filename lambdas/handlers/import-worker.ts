import { createAwsDeps } from '../aws-deps.js';
import { createImportWorker } from '../jobs/import-worker.js';

/** Lambda entry of the import worker: the SQS queue of bulk-import batches. */
const deps = createAwsDeps('auth-import-worker', (d) => d);
export const handler = createImportWorker(deps);
