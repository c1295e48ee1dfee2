import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createOutboxMailer, readEmlText } from '../../lambdas/mail/outbox-mailer.js';
import { createSesMailer } from '../../lambdas/mail/ses-mailer.js';
import { renderEmail } from '../../lambdas/mail/templates.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const values = {
  url: 'https://auth.example.com/u/reset-password?ticket=abc&x=1',
  user: { email: 'ann@example.com' },
  application: { name: 'Shop <Beta>' },
  tenant: { friendly_name: 'Acme' },
};

describe('mail templates', () => {
  it("fills Auth0's placeholders, escaping them in the HTML part only", () => {
    const m = renderEmail('reset_email', values);
    expect(m.subject).toBe('Reset your Acme password');
    expect(m.text).toContain('ann@example.com');
    expect(m.text).toContain(values.url);
    expect(m.text).toContain('Shop <Beta>');
    expect(m.html).toContain('href="https://auth.example.com/u/reset-password?ticket=abc&amp;x=1"');
    expect(m.html).toContain('Shop &lt;Beta&gt;');
  });

  it("takes a tenant's override of a single field and keeps the rest", () => {
    const m = renderEmail('reset_email', values, { reset_email: { subject: '{{ application.name }}: new password for {{user.email}}' } });
    expect(m.subject).toBe('Shop <Beta>: new password for ann@example.com');
    expect(m.text).toContain(values.url);
  });
});

describe('outbox mailer', () => {
  it('writes each message as an .eml file that reads back with both parts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'outbox-test-'));
    dirs.push(dir);
    const outbox = createOutboxMailer({ dir, from: 'no-reply@localhost' });
    await outbox.send({ to: 'ann@example.com', subject: 'Réinitialiser', text: 'hello ünïcode', html: '<p>hi</p>' });
    await outbox.send({ to: 'bob@example.com\r\nBcc: evil@example.com', subject: 'two', text: 't', html: 'h' });
    const files = outbox.files();
    expect(files).toHaveLength(2);
    expect(readEmlText(files[0])).toEqual({ to: 'ann@example.com', subject: 'Réinitialiser', text: 'hello ünïcode', html: '<p>hi</p>' });
    const second = readFileSync(files[1], 'utf8');
    expect(second).not.toMatch(/^Bcc:/m);
    expect(readEmlText(files[1]).to).toBe('bob@example.com Bcc: evil@example.com');
  });
});

describe('SES mailer', () => {
  it('sends one SendEmail from the sender identity with the text and HTML parts', async () => {
    const client = new SESv2Client({ region: 'eu-west-1' });
    const ses = mockClient(client);
    ses.on(SendEmailCommand).resolves({ MessageId: 'm-1' });
    await createSesMailer({ client, from: 'auth@example.com' }).send({ to: 'ann@example.com', subject: 's', text: 't', html: '<b>h</b>' });
    const calls = ses.commandCalls(SendEmailCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0].args[0].input).toEqual({
      FromEmailAddress: 'auth@example.com',
      Destination: { ToAddresses: ['ann@example.com'] },
      Content: {
        Simple: {
          Subject: { Data: 's', Charset: 'UTF-8' },
          Body: { Text: { Data: 't', Charset: 'UTF-8' }, Html: { Data: '<b>h</b>', Charset: 'UTF-8' } },
        },
      },
    });
    ses.restore();
  });

  it('lets an SES failure reach the caller (the caller decides what the user sees)', async () => {
    const client = new SESv2Client({ region: 'eu-west-1' });
    const ses = mockClient(client);
    ses.on(SendEmailCommand).rejects(new Error('MessageRejected'));
    await expect(createSesMailer({ client, from: 'auth@example.com' }).send({ to: 'a@b.c', subject: 's', text: 't', html: 'h' })).rejects.toThrow('MessageRejected');
    ses.restore();
  });
});
