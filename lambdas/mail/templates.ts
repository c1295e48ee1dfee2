import type { MailMessage } from './mail-port.js';

/** The e-mails the service sends, by Auth0's template names. */
export type EmailTemplateName = 'reset_email' | 'verify_email';

export interface EmailTemplate {
  subject: string;
  text: string;
  html: string;
}

/** What a template may refer to, with Auth0's placeholder names (`{{ url }}`, `{{ user.email }}`, ...). */
export interface TemplateValues {
  url: string;
  user: { email: string; name?: string };
  application: { name: string };
  tenant: { friendly_name: string };
}

/** The built-in templates; a tenant overrides any field per template in its settings (`email_templates`). */
export const defaultEmailTemplates: Record<EmailTemplateName, EmailTemplate> = {
  reset_email: {
    subject: 'Reset your {{ tenant.friendly_name }} password',
    text:
      'Hello {{ user.email }},\n\nSomeone asked to reset the password of your {{ application.name }} account.\n' +
      'Open this link to choose a new password:\n\n{{ url }}\n\nIf you did not ask for this, ignore this e-mail; your password stays the same.\n',
    html:
      '<p>Hello {{ user.email }},</p><p>Someone asked to reset the password of your {{ application.name }} account.</p>' +
      '<p><a href="{{ url }}">Choose a new password</a></p><p>If you did not ask for this, ignore this e-mail; your password stays the same.</p>',
  },
  verify_email: {
    subject: 'Verify your e-mail address for {{ application.name }}',
    text: 'Hello {{ user.email }},\n\nOpen this link to verify your e-mail address:\n\n{{ url }}\n',
    html: '<p>Hello {{ user.email }},</p><p><a href="{{ url }}">Verify your e-mail address</a></p>',
  },
};

/** Fills a template: `{{ a.b }}` placeholders, HTML-escaped in the HTML part; unknown names become empty. */
export function renderEmail(
  name: EmailTemplateName,
  values: TemplateValues,
  overrides?: Partial<Record<EmailTemplateName, Partial<EmailTemplate>>>,
): Omit<MailMessage, 'to'> {
  const t = { ...defaultEmailTemplates[name], ...overrides?.[name] };
  const lookup = (path: string): string => {
    let v: unknown = values;
    for (const key of path.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined;
    return typeof v === 'string' ? v : '';
  };
  const fill = (s: string, escape: (x: string) => string) =>
    s.replace(/\{\{\s*([a-zA-Z_][\w.]*)\s*\}\}/g, (_, path: string) => escape(lookup(path)));
  const plain = (x: string) => x.replace(/[\r\n]+/g, ' ');
  return { subject: fill(t.subject, plain), text: fill(t.text, (x) => x), html: fill(t.html, escapeHtml) };
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}
