import { describe, expect, it } from 'vitest';
import { compileJsonFilterPattern } from './support/json-filter-pattern.js';

const line = JSON.stringify({ message: 'auth_event', type: 'fp', reason: 'upstream_timeout', latency_ms: 12, nested: { a: 'b' } });

describe('JSON filter-pattern evaluator used to check the metric filters', () => {
  it('matches string equality and rejects other values', () => {
    expect(compileJsonFilterPattern('{ $.type = "fp" }')(line)).toBe(true);
    expect(compileJsonFilterPattern('{ $.type = "fu" }')(line)).toBe(false);
    expect(compileJsonFilterPattern('{ $.type != "fu" }')(line)).toBe(true);
  });

  it('treats * in a string value as a wildcard', () => {
    expect(compileJsonFilterPattern('{ $.reason = "upstream_*" }')(line)).toBe(true);
    expect(compileJsonFilterPattern('{ $.reason = "local_*" }')(line)).toBe(false);
  });

  it('gives && precedence over || and honours parentheses', () => {
    expect(compileJsonFilterPattern('{ $.type = "x" && $.type = "y" || $.message = "auth_event" }')(line)).toBe(true);
    expect(compileJsonFilterPattern('{ $.type = "x" && ($.type = "y" || $.message = "auth_event") }')(line)).toBe(false);
  });

  it('compares numbers and does not match a missing field', () => {
    expect(compileJsonFilterPattern('{ $.latency_ms >= 0 }')(line)).toBe(true);
    expect(compileJsonFilterPattern('{ $.latency_ms > 12 }')(line)).toBe(false);
    expect(compileJsonFilterPattern('{ $.missing >= 0 }')(line)).toBe(false);
    expect(compileJsonFilterPattern('{ $.missing = "x" }')(line)).toBe(false);
  });

  it('follows nested selectors', () => {
    expect(compileJsonFilterPattern('{ $.nested.a = "b" }')(line)).toBe(true);
  });

  it('matches nothing on lines that are not JSON objects', () => {
    expect(compileJsonFilterPattern('{ $.type = "fp" }')('START RequestId: 1 Version: $LATEST')).toBe(false);
  });

  it('refuses syntax outside the supported subset instead of guessing', () => {
    expect(() => compileJsonFilterPattern('{ $.type EXISTS }')).toThrow();
    expect(() => compileJsonFilterPattern('[ip, user]')).toThrow();
  });
});
