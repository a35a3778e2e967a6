/** `1 object`, `3 objects`: a count with its noun, for messages. */
export function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}
