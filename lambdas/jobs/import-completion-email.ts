import type { Deps } from '../deps.js';
import type { ImportJobRecord, JobSummary } from '../store/flow-records.js';

export type ImportCompletionEmailDeps = Pick<Deps, 'config' | 'mailer' | 'sink' | 'tenantConfigs'>;

/**
 * Auth0's `send_completion_email`: when an import job ends, a mail to the tenant's owners. There
 * are no tenant owners here: it goes to the tenant's `support_email` (tenant settings), else to
 * the operator's address (`OPERATOR_EMAIL`, the stack's `alarmEmail`), through the mailer of
 * resets and verifications. Without a mailer or an address it is skipped with a log line; a
 * failed send is logged and never fails the job.
 */
export async function sendImportCompletionEmail(
  deps: ImportCompletionEmailDeps,
  job: ImportJobRecord,
  outcome: { status: 'completed' | 'failed'; summary?: Omit<JobSummary, 'done'> },
): Promise<void> {
  if (!job.send_completion_email) return;
  const fields = { tenant: job.tenant, job_id: job.id };
  try {
    const config = await deps.tenantConfigs.load(job.tenant);
    const to = config?.settings.support_email || deps.config.operatorEmail;
    if (!deps.mailer || !to) {
      deps.sink.info('import completion email skipped', { ...fields, reason: deps.mailer ? 'no_recipient' : 'no_mailer' });
      return;
    }
    const name = config?.settings.friendly_name || job.tenant;
    const s = outcome.summary;
    const counts = s ? `${s.inserted} inserted, ${s.updated} updated, ${s.failed} failed, of ${s.total}` : 'no summary';
    const subject = `${name}: users import ${job.id} ${outcome.status}`;
    const lines = [
      `The users import job ${job.id} into the connection ${job.connection} ${outcome.status === 'completed' ? 'has completed' : 'has failed'}.`,
      '',
      `Users: ${counts}.`,
      ...(job.external_id ? [`External id: ${job.external_id}`] : []),
      '',
      `Details: GET /api/v2/jobs/${job.id}; the users that failed: GET /api/v2/jobs/${job.id}/errors.`,
    ];
    const escape = (x: string) => x.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
    await deps.mailer.send({ to, subject, text: lines.join('\n') + '\n', html: lines.map((l) => (l ? `<p>${escape(l)}</p>` : '')).join('') });
    deps.sink.info('import completion email sent', fields);
  } catch (err) {
    deps.sink.warn('import completion email not sent', { ...fields, error: err instanceof Error ? err.name : 'unknown' });
  }
}
