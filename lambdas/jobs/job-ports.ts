import type { Readable } from 'node:stream';

/**
 * The narrow ports of background jobs. A job is recorded first, then a message for it goes to
 * the job queue (job-queue.ts), which runs it out of the request: the worker Lambda in AWS, in
 * process locally.
 */
/** How long an export job and its file are kept (the bucket's lifecycle expires files after as many days). */
export const EXPORT_RETENTION_SECONDS = 7 * 24 * 3600;

export interface JobRef {
  tenant: string;
  id: string;
  type: 'users_export';
}

/** Where export files go: a folder locally, an S3 bucket in AWS. */
export interface ExportFileStore {
  /** Writes the file from a stream of its (gzipped) bytes, without holding it whole; nothing is left when it fails. */
  write(key: string, body: Readable, contentType: string): Promise<void>;
  /** A URL the caller of the Management API can download the file from. */
  location(key: string): Promise<string>;
}
