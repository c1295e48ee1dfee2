import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import type { HttpEvent } from '../http/event.js';
import { ManagementError, managementErrors } from './errors.js';

type Issue = z.core.$ZodIssue;

/** `zod/mini` ships no locale; the English one gives issues the wording the API has always answered. */
const englishMessages = en().localeError;

/** Auth0-style wording of a validation issue; never echoes the offending value. */
function describeIssue(issue: Issue): string {
  const path = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    return `'Additional properties not allowed: ${issue.keys.join(',')}' on property ${path || '(root)'}.`;
  }
  if (issue.code === 'invalid_type' && issue.input === undefined) {
    return `'Missing required property: ${issue.path.at(-1) === undefined ? '(root)' : String(issue.path.at(-1))}' on property ${path || '(root)'}.`;
  }
  return `'${issue.message}' on property ${path || '(root)'}.`;
}

function parseWith<S extends z.ZodMiniType>(schema: S, input: unknown, toError: (m: string) => ManagementError): z.infer<S> {
  const res = schema.safeParse(input, { reportInput: true, error: englishMessages });
  if (res.success) return res.data;
  throw toError(describeIssue(res.error.issues[0]));
}

/** The JSON body parsed against a strict schema: unknown fields and wrong types are 400s naming the field. */
export function parseBody<S extends z.ZodMiniType>(schema: S, event: HttpEvent): z.infer<S> {
  const body = event.body;
  if (typeof body === 'string') throw managementErrors.invalidJson();
  if (body !== undefined && (body === null || typeof body !== 'object' || Array.isArray(body))) {
    throw managementErrors.invalidBody(`'Expected type object but found type ${Array.isArray(body) ? 'array' : typeof body}' on property (root).`);
  }
  return parseWith(schema, body ?? {}, managementErrors.invalidBody);
}

export function parseQuery<S extends z.ZodMiniType>(schema: S, event: HttpEvent): z.infer<S> {
  return parseWith(schema, event.queryStringParameters ?? {}, managementErrors.invalidQuery);
}

/**
 * A path parameter checked against its id shape. API Gateway may hand over a still-encoded
 * value (`auth0%7Cabc`); the local router has decoded it already.
 */
export function pathParam(event: HttpEvent, name: string, shape: RegExp): string {
  let value = event.pathParameters?.[name] ?? '';
  if (/%[0-9a-f]{2}/i.test(value)) {
    try {
      value = decodeURIComponent(value);
    } catch {
      throw managementErrors.invalidUri(`'Invalid ${name}' on property ${name}.`);
    }
  }
  if (!shape.test(value)) throw managementErrors.invalidUri(`'Object didn't pass validation for format ${name}' on property ${name}.`);
  return value;
}

const intString = (min: number, max: number) =>
  z.pipe(
    z.pipe(z.string().check(z.regex(/^\d{1,6}$/, 'Expected an integer')), z.transform(Number)),
    z.number().check(z.int(), z.gte(min), z.lte(max)),
  );
const boolString = z.pipe(z.enum(['true', 'false']), z.transform((v) => v === 'true'));

/** Query fields shared by list routes: Auth0's offset paging and field selection. */
export const pagingQuery = {
  page: z.optional(intString(0, 1000)),
  per_page: z.optional(intString(1, 100)),
  include_totals: z.optional(boolString),
  fields: z.optional(
    z.string().check(z.maxLength(1000), z.regex(/^[a-zA-Z0-9_.,]*$/, 'Expected a comma-separated list of field names')),
  ),
  include_fields: z.optional(boolString),
};
export { boolString, intString };

export interface Paging {
  page: number;
  perPage: number;
  includeTotals: boolean;
}

export function pagingOf(q: { page?: number; per_page?: number; include_totals?: boolean }, defaultPerPage = 50): Paging {
  return { page: q.page ?? 0, perPage: q.per_page ?? defaultPerPage, includeTotals: q.include_totals ?? false };
}

/** Auth0's `fields` / `include_fields` selection on a response object. */
export function selectFields<T extends object>(obj: T, fields: string | undefined, include: boolean | undefined): Partial<T> {
  if (!fields) return obj;
  const names = new Set(fields.split(',').filter(Boolean));
  const keep = include ?? true;
  return Object.fromEntries(Object.entries(obj).filter(([k]) => names.has(k) === keep)) as Partial<T>;
}

/** A list answer: the bare array, or Auth0's `{start, limit, length, total, <key>}` with totals. */
export function listBody<T>(key: string, all: T[], paging: Paging): unknown {
  const start = paging.page * paging.perPage;
  const items = all.slice(start, start + paging.perPage);
  if (!paging.includeTotals) return items;
  return { start, limit: paging.perPage, length: items.length, total: all.length, [key]: items };
}

/** Strings that are safe to store: bounded, no control characters. */
export const text = (max: number) =>
  z.string().check(z.minLength(1), z.maxLength(max), z.regex(/^[^\u0000-\u001f\u007f]*$/, 'Control characters are not allowed'));

/** Flat string metadata as Auth0 allows it on connections (≤ 10 keys). */
export const stringMetadata = z.record(z.string().check(z.maxLength(255)), z.string().check(z.maxLength(255))).check(
  z.refine((m) => Object.keys(m).length <= 10, 'At most 10 metadata keys are allowed'),
);
