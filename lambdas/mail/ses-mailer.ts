import { SendEmailCommand, type SESv2Client } from '@aws-sdk/client-sesv2';
import type { Mailer } from './mail-port.js';

/**
 * The AWS mail adapter: Amazon SES v2 `SendEmail` from the stack's verified sender identity
 * (`MAIL_FROM`). The function's role may send from that identity only.
 */
export function createSesMailer(p: { client: SESv2Client; from: string; configurationSet?: string }): Mailer {
  return {
    async send(m) {
      await p.client.send(
        new SendEmailCommand({
          FromEmailAddress: p.from,
          Destination: { ToAddresses: [m.to] },
          ...(p.configurationSet ? { ConfigurationSetName: p.configurationSet } : {}),
          Content: {
            Simple: {
              Subject: { Data: m.subject, Charset: 'UTF-8' },
              Body: { Text: { Data: m.text, Charset: 'UTF-8' }, Html: { Data: m.html, Charset: 'UTF-8' } },
            },
          },
        }),
      );
    },
  };
}
