import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Mailer, MailMessage } from './mail-port.js';

export interface OutboxMailer extends Mailer {
  /** The folder the `.eml` files are written to. */
  readonly dir: string;
  /** The `.eml` files written so far, oldest first (by name: a timestamp then a random suffix). */
  files(): string[];
}

/**
 * The local mail adapter: each message becomes one RFC 5322 `.eml` file (multipart text and
 * HTML) in `dir`, which any mail client opens. Nothing leaves the machine.
 */
export function createOutboxMailer(p: { dir: string; from: string; now?: () => number }): OutboxMailer {
  mkdirSync(p.dir, { recursive: true });
  const now = p.now ?? Date.now;
  let sequence = 0;
  return {
    dir: p.dir,
    async send(message) {
      const at = new Date(now());
      const name = `${at.toISOString().replace(/[:.]/g, '-')}-${String(sequence++).padStart(4, '0')}-${randomBytes(3).toString('hex')}.eml`;
      writeFileSync(join(p.dir, name), toEml(p.from, message, at), { mode: 0o600 });
    },
    files() {
      return readdirSync(p.dir)
        .filter((f) => f.endsWith('.eml'))
        .sort()
        .map((f) => join(p.dir, f));
    },
  };
}

/** The message as an `.eml` text (quoted-printable-free: both parts base64, headers encoded). */
export function toEml(from: string, m: MailMessage, at: Date): string {
  const boundary = `b_${randomBytes(8).toString('hex')}`;
  const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64').replace(/.{76}/g, '$&\r\n');
  return [
    `From: ${headerValue(from)}`,
    `To: ${headerValue(m.to)}`,
    `Subject: =?UTF-8?B?${Buffer.from(m.subject, 'utf8').toString('base64')}?=`,
    `Date: ${at.toUTCString()}`,
    'MIME-Version: 1.0',
    `Content-Type: multipart/alternative; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: base64',
    '',
    b64(m.text),
    `--${boundary}`,
    'Content-Type: text/html; charset=utf-8',
    'Content-Transfer-Encoding: base64',
    '',
    b64(m.html),
    `--${boundary}--`,
    '',
  ].join('\r\n');
}

/** Reads back the text part of an `.eml` file written by the outbox (tests, the dev loop). */
export function readEmlText(path: string): { to: string; subject: string; text: string; html: string } {
  const raw = readFileSync(path, 'utf8');
  const header = (name: string) => new RegExp(`^${name}: (.*)$`, 'm').exec(raw)?.[1] ?? '';
  const subject = header('Subject').replace(/^=\?UTF-8\?B\?(.*)\?=$/, (_, b: string) => Buffer.from(b, 'base64').toString('utf8'));
  const parts = raw.split(/\r\n--b_[0-9a-f]+(?:--)?\r\n/).slice(1);
  const body = (type: string) => {
    const part = parts.find((x) => x.startsWith(`Content-Type: ${type}`)) ?? '';
    return Buffer.from(part.split('\r\n\r\n')[1]?.replace(/\r\n/g, '') ?? '', 'base64').toString('utf8');
  };
  return { to: header('To'), subject, text: body('text/plain'), html: body('text/html') };
}

/** Header values never carry a line break (no header injection from a typed address). */
function headerValue(v: string): string {
  return v.replace(/[\r\n]+/g, ' ');
}
