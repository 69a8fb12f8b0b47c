/**
 * A list's items as its indices hold them: its length read once, then each index once, into a new array. The way
 * `JSON.stringify` and the cache's request text read a list, so what is validated, sent and keyed is what they read;
 * never its iterator or its methods, which an array's own properties or a subclass may make say something else.
 */
export function itemsOf(list: readonly unknown[]): unknown[] {
  const length = list.length;
  const items: unknown[] = [];
  for (let index = 0; index < length; index++) items.push(list[index]);
  return items;
}
