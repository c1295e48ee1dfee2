/**
 * A small evaluator for the subset of CloudWatch Logs JSON filter patterns the stack uses:
 * `{ $.a = "x" && ($.b = "y*" || $.c >= 0) }`.
 *
 * Supported: selectors `$.field` / `$.a.b`; `=` and `!=` against a quoted string (with `*`
 * wildcards) or a number; `<`, `<=`, `>`, `>=` against a number; `&&`, `||` (`&&` binds
 * tighter) and parentheses. A selector missing from the line, or of another type than the
 * value it is compared with, does not match. A line that is not a JSON object matches nothing.
 * Anything outside this subset throws, so a pattern cannot silently be misread.
 */
type Token =
  | { kind: 'lbrace' | 'rbrace' | 'lparen' | 'rparen' | 'and' | 'or' }
  | { kind: 'selector'; path: string[] }
  | { kind: 'op'; op: Operator }
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: number };

type Operator = '=' | '!=' | '<' | '<=' | '>' | '>=';

type Compare = { kind: 'compare'; path: string[]; op: Operator; value: string | number };
type Node = { kind: 'and'; left: Node; right: Node } | { kind: 'or'; left: Node; right: Node } | Compare;

function tokenize(pattern: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < pattern.length) {
    const rest = pattern.slice(i);
    const ws = /^\s+/.exec(rest);
    if (ws) { i += ws[0].length; continue; }
    const simple: Record<string, Token> = {
      '{': { kind: 'lbrace' }, '}': { kind: 'rbrace' }, '(': { kind: 'lparen' }, ')': { kind: 'rparen' },
    };
    if (simple[rest[0]]) { tokens.push(simple[rest[0]]); i += 1; continue; }
    if (rest.startsWith('&&')) { tokens.push({ kind: 'and' }); i += 2; continue; }
    if (rest.startsWith('||')) { tokens.push({ kind: 'or' }); i += 2; continue; }
    const op = /^(!=|<=|>=|=|<|>)/.exec(rest);
    if (op) { tokens.push({ kind: 'op', op: op[1] as Operator }); i += op[1].length; continue; }
    const selector = /^\$((?:\.[A-Za-z_][A-Za-z0-9_-]*)+)/.exec(rest);
    if (selector) { tokens.push({ kind: 'selector', path: selector[1].slice(1).split('.') }); i += selector[0].length; continue; }
    const str = /^"((?:[^"\\]|\\.)*)"/.exec(rest);
    if (str) { tokens.push({ kind: 'string', value: str[1].replace(/\\(.)/g, '$1') }); i += str[0].length; continue; }
    const num = /^-?\d+(?:\.\d+)?/.exec(rest);
    if (num) { tokens.push({ kind: 'number', value: Number(num[0]) }); i += num[0].length; continue; }
    throw new Error(`unsupported filter pattern syntax at: ${rest}`);
  }
  return tokens;
}

function parse(pattern: string): Node {
  const tokens = tokenize(pattern);
  let pos = 0;
  const peek = () => tokens[pos];
  const take = (kind: Token['kind']) => {
    const token = tokens[pos];
    if (token?.kind !== kind) throw new Error(`expected ${kind} at token ${pos} of ${pattern}`);
    pos += 1;
    return token;
  };
  const parseOr = (): Node => {
    let left = parseAnd();
    while (peek()?.kind === 'or') { pos += 1; left = { kind: 'or', left, right: parseAnd() }; }
    return left;
  };
  const parseAnd = (): Node => {
    let left = parseTerm();
    while (peek()?.kind === 'and') { pos += 1; left = { kind: 'and', left, right: parseTerm() }; }
    return left;
  };
  const parseTerm = (): Node => {
    if (peek()?.kind === 'lparen') {
      pos += 1;
      const inner = parseOr();
      take('rparen');
      return inner;
    }
    const selector = take('selector') as Extract<Token, { kind: 'selector' }>;
    const { op } = take('op') as Extract<Token, { kind: 'op' }>;
    const value = tokens[pos];
    pos += 1;
    if (value?.kind === 'string') {
      if (op !== '=' && op !== '!=') throw new Error(`operator ${op} needs a number in ${pattern}`);
      return { kind: 'compare', path: selector.path, op, value: value.value };
    }
    if (value?.kind === 'number') return { kind: 'compare', path: selector.path, op, value: value.value };
    throw new Error(`expected a value after ${op} in ${pattern}`);
  };
  take('lbrace');
  const root = parseOr();
  take('rbrace');
  if (pos !== tokens.length) throw new Error(`trailing tokens in ${pattern}`);
  return root;
}

function wildcardMatch(actual: string, expected: string): boolean {
  const regex = new RegExp(`^${expected.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return regex.test(actual);
}

function select(line: unknown, path: string[]): unknown {
  let current = line;
  for (const key of path) {
    if (current === null || typeof current !== 'object' || !(key in current)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function evaluate(node: Node, line: unknown): boolean {
  if (node.kind === 'and') return evaluate(node.left, line) && evaluate(node.right, line);
  if (node.kind === 'or') return evaluate(node.left, line) || evaluate(node.right, line);
  return compare(node, line);
}

function compare(node: Compare, line: unknown): boolean {
  const actual = select(line, node.path);
  if (typeof node.value === 'string') {
    if (typeof actual !== 'string') return false;
    const equal = wildcardMatch(actual, node.value);
    return node.op === '=' ? equal : !equal;
  }
  if (typeof actual !== 'number') return false;
  switch (node.op) {
    case '=': return actual === node.value;
    case '!=': return actual !== node.value;
    case '<': return actual < node.value;
    case '<=': return actual <= node.value;
    case '>': return actual > node.value;
    case '>=': return actual >= node.value;
    default: return false;
  }
}

/** Compiles a pattern once; the returned function says whether a raw log line matches it. */
export function compileJsonFilterPattern(pattern: string): (rawLine: string) => boolean {
  const root = parse(pattern);
  return (rawLine) => {
    let line: unknown;
    try { line = JSON.parse(rawLine); } catch { return false; }
    if (line === null || typeof line !== 'object' || Array.isArray(line)) return false;
    return evaluate(root, line);
  };
}

/** The value a metric filter would publish for a matching line (`'1'` or a `$.field` selector). */
export function metricValueOf(metricValue: string, rawLine: string): number | undefined {
  if (!metricValue.startsWith('$.')) return Number(metricValue);
  const value = select(JSON.parse(rawLine), metricValue.slice(2).split('.'));
  return typeof value === 'number' ? value : undefined;
}

/** Dimension values a metric filter would attach to a matching line. */
export function dimensionValuesOf(dimensions: Readonly<Record<string, string>>, rawLine: string): Record<string, unknown> {
  const line = JSON.parse(rawLine);
  return Object.fromEntries(Object.entries(dimensions).map(([name, selector]) => [name, select(line, selector.slice(2).split('.'))]));
}
