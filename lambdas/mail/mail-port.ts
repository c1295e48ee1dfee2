/** One e-mail to one recipient, with a text and an HTML part. */
export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
}

/**
 * Where the service's mail goes: Amazon SES in AWS (`ses-mailer.ts`), an outbox folder of
 * `.eml` files locally (`outbox-mailer.ts`). Domain code only sees this port.
 */
export interface Mailer {
  send(message: MailMessage): Promise<void>;
}
