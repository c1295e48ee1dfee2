import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEmlText } from '../../lambdas/mail/outbox-mailer.js';
import { createTenantConfigRepository } from '../../lambdas/store/tenant-config-repository.js';
import { importAndWait } from '../support/import-jobs.js';
import { startTestService, type TestService } from '../support/local-service.js';
import { managementApi } from './management-helpers.js';

/**
 * Auth0's `send_completion_email` (default true): when an import job ends, a mail goes to the
 * tenant's `support_email`, else to the operator's address, through the service's mailer (the
 * local outbox here); without either it is skipped, and a failed send never fails the job.
 */
let service: TestService;
let token: string;
let n = 0;

beforeAll(async () => {
  service = await startTestService({ config: { bcryptCost: 4, configCacheMs: 0 } });
  token = await managementApi(service).token(service.credentials.machineClient);
});
afterAll(async () => {
  await service?.close();
});

const file = () => {
  n++;
  return JSON.stringify([{ email: `done${n}a@example.com` }, { email: `done${n}b@example.com` }, { email: 'not-an-email' }]);
};
const run = (opts: { send_completion_email?: boolean; external_id?: string } = {}) =>
  importAndWait(service, token, { users: file(), connection_id: service.credentials.connection.id, ...opts });

async function setSupportEmail(address: string | undefined) {
  const repo = createTenantConfigRepository(service.deps.db, service.deps.tableName);
  const config = await repo.load(service.credentials.tenant);
  const { support_email: _old, ...settings } = config!.settings;
  await repo.putSettings(address ? { ...settings, support_email: address } : settings);
}

const newMails = async (before: number, job: { status: string }) => {
  expect(['completed', 'failed']).toContain(job.status);
  return service.outbox.files().slice(before).map(readEmlText);
};

describe('send_completion_email', () => {
  it('without a support_email or an operator address, the job completes and no mail is sent', async () => {
    const before = service.outbox.files().length;
    const job = await run();
    expect(job.status).toBe('completed');
    expect(await newMails(before, job)).toEqual([]);
  });

  it("mails the tenant's support_email when the job completes, with its summary and where the errors are", async () => {
    await setSupportEmail('support@tenant.example');
    const before = service.outbox.files().length;
    const job = await run({ external_id: 'part-7' });
    const mails = await newMails(before, job);
    expect(mails).toHaveLength(1);
    expect(mails[0].to).toBe('support@tenant.example');
    expect(mails[0].subject).toContain(`users import ${job.id} completed`);
    expect(mails[0].text).toContain('2 inserted, 0 updated, 1 failed, of 3');
    expect(mails[0].text).toContain(`/api/v2/jobs/${job.id}/errors`);
    expect(mails[0].text).toContain('part-7');
  });

  it('sends nothing when the job asks for no completion e-mail', async () => {
    const before = service.outbox.files().length;
    const job = await run({ send_completion_email: false });
    expect(job.status).toBe('completed');
    expect(await newMails(before, job)).toEqual([]);
  });

  it("falls back to the operator's address (the stack's alarmEmail) without a support_email", async () => {
    await setSupportEmail(undefined);
    service.managementDeps.config.operatorEmail = 'oncall@operator.example';
    try {
      const before = service.outbox.files().length;
      const mails = await newMails(before, await run());
      expect(mails.map((m) => m.to)).toEqual(['oncall@operator.example']);
    } finally {
      delete service.managementDeps.config.operatorEmail;
    }
  });

  it('a mailer that fails does not fail the job', async () => {
    await setSupportEmail('support@tenant.example');
    const mailer = service.managementDeps.mailer;
    let tried = 0;
    service.managementDeps.mailer = {
      async send() {
        tried++;
        throw Object.assign(new Error('MessageRejected'), { name: 'MessageRejected' });
      },
    };
    try {
      const job = await run();
      expect(job).toMatchObject({ status: 'completed', summary: { inserted: 2, failed: 1 } });
      expect(tried).toBe(1);
    } finally {
      service.managementDeps.mailer = mailer;
    }
  });
});
