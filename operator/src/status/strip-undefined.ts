// An object without its undefined values, so that a status write leaves such fields out. Pure.
export function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
