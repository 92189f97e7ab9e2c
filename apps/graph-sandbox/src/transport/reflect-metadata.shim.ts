// @peculiar/x509 registers its services with tsyringe, which refuses to load without a Reflect metadata
// polyfill ("tsyringe requires a reflect polyfill"). The workspace does not ship `reflect-metadata`, and
// x509 only needs the three functions below (no decorator metadata is ever read), so this module provides a
// minimal WeakMap-backed version when, and only when, no polyfill is present. Import it before @peculiar/x509.
type MetadataTarget = object;

const reflect = Reflect as unknown as {
  getMetadata?: (key: unknown, target: MetadataTarget) => unknown;
  getOwnMetadata?: (key: unknown, target: MetadataTarget) => unknown;
  defineMetadata?: (key: unknown, value: unknown, target: MetadataTarget) => void;
};

if (typeof reflect.getMetadata !== 'function') {
  const store = new WeakMap<MetadataTarget, Map<unknown, unknown>>();
  reflect.defineMetadata = (key, value, target) => {
    let entries = store.get(target);
    if (!entries) store.set(target, (entries = new Map()));
    entries.set(key, value);
  };
  reflect.getOwnMetadata = (key, target) => store.get(target)?.get(key);
  reflect.getMetadata = (key, target) => {
    for (let current: MetadataTarget | null = target; current; current = Object.getPrototypeOf(current) as MetadataTarget | null) {
      const value = store.get(current)?.get(key);
      if (value !== undefined) return value;
    }
    return undefined;
  };
}

export {};
