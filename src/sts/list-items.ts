/**
 * A list's items as its indices hold them, up to `max + 1` of them: its length read once, then each index once, into a
 * new array. The way `JSON.stringify` and the cache's request text read a list, so what is validated, sent and keyed
 * is what they read; never its iterator or its methods, which an array's own properties or a subclass may make say
 * something else. One item past `max` is enough to refuse the list: a list of 2^32 − 1 holes is never walked.
 */
export function itemsOf(list: readonly unknown[], max: number): unknown[] {
  const length = Math.min(list.length, max + 1);
  const items: unknown[] = [];
  for (let index = 0; index < length; index++) items.push(list[index]);
  return items;
}
