/** How many of the most common passwords the service ships (about 7 KB in the bundle). */
export const COMMON_PASSWORDS_COUNT = 1000;

/** The first `count` distinct passwords of a frequency-ranked list, lower case, without blanks. */
export function commonPasswordsFrom(ranked: readonly string[], count: number): string[] {
  const seen = new Set<string>();
  for (const raw of ranked) {
    const word = raw.toLowerCase();
    if (word && !/\s/.test(word)) seen.add(word);
    if (seen.size >= count) break;
  }
  return [...seen];
}
