/**
 * The narrow ports of background jobs. A job is recorded first, then handed to the runner, which
 * runs it out of the request: in process locally, an asynchronous invocation in AWS.
 */
/** How long an export job and its file are kept (the bucket's lifecycle expires files after as many days). */
export const EXPORT_RETENTION_SECONDS = 7 * 24 * 3600;

export interface JobRef {
  tenant: string;
  id: string;
  type: 'users_export';
}

export interface JobRunner {
  enqueue(job: JobRef): Promise<void>;
}

/** Where export files go: a folder locally, an S3 bucket in AWS. */
export interface ExportFileStore {
  put(key: string, body: Buffer, contentType: string): Promise<void>;
  /** A URL the caller of the Management API can download the file from. */
  location(key: string): Promise<string>;
}
