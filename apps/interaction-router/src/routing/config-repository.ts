import {
  Agent,
  Calendar,
  MailboxSettings,
  MessageTemplate,
  Queue,
  RoutingRule,
  SenderList,
  SignatureRule,
  TemplateAttachment,
} from '@mailroute/contracts';
import { ConflictError } from '@mailroute/platform';
import type { ConfigDocument, VersionedStore } from '../store/router-stores';
import { claimKey, configKey, configKindPrefix } from '../store/router-keys';

/** The kinds of tenant configuration the router keeps, with their proto codecs. */
export const configKinds = {
  queue: Queue,
  rule: RoutingRule,
  senderList: SenderList,
  agent: Agent,
  calendar: Calendar,
  template: MessageTemplate,
  /** The router's settings of a mailbox (signature, acknowledgements), keyed by the mailbox id. */
  mailbox: MailboxSettings,
  /** The tenant's signature rule: one object, id {@link signatureRuleId}. */
  signatureRule: SignatureRule,
  /** A file templates can attach, keyed by its upload id (routing/template-files.ts). */
  templateFile: TemplateAttachment,
} as const;

/** Id of the tenant's one signature rule object. */
export const signatureRuleId = 'tenant';

export type ConfigKind = keyof typeof configKinds;

/**
 * Values that must be unique per tenant, each held by one claim record: agents' user principal
 * names and Entra object ids (lower-cased). A claim is a version-0 write, i.e. a unique insert, so
 * two writers racing for one value cannot both win (FerretDB v1's conditional updates are not atomic).
 */
export type ClaimKind = 'agentUpn' | 'agentOid';

/** Who holds a claim, since when, and the claim record's version (to release exactly it). */
export interface ClaimHolder {
  holderId: string;
  claimedAt: number;
  version: number;
}
type Message<K extends ConfigKind> = ReturnType<(typeof configKinds)[K]['fromJSON']>;

export interface StoredConfig<T> {
  id: string;
  version: number;
  value: T;
  createdAt: number;
  updatedAt: number;
}

/** Tenant configuration (queues, rules, sender lists, agents) on a versioned store; the version is the etag. */
export function createConfigRepository(store: VersionedStore<ConfigDocument>) {
  const key = (tenantId: string, kind: ConfigKind, id: string) => configKey(tenantId, kind, id);
  const decode = <K extends ConfigKind>(
    kind: K,
    id: string,
    version: number,
    data: ConfigDocument,
  ): StoredConfig<Message<K>> => ({
    id,
    version,
    value: configKinds[kind].fromJSON(data.json) as Message<K>,
    createdAt: data.createdAt,
    updatedAt: data.updatedAt,
  });
  return {
    async get<K extends ConfigKind>(tenantId: string, kind: K, id: string): Promise<StoredConfig<Message<K>> | undefined> {
      const latest = await store.latest(key(tenantId, kind, id));
      return latest ? decode(kind, id, latest.version, latest.data) : undefined;
    },
    /** Up to `limit` objects with id > `afterId`, in id order. */
    async list<K extends ConfigKind>(
      tenantId: string,
      kind: K,
      afterId: string | undefined,
      limit: number,
    ): Promise<StoredConfig<Message<K>>[]> {
      const prefix = configKindPrefix(tenantId, kind);
      const out: StoredConfig<Message<K>>[] = [];
      let after = afterId === undefined ? prefix : `${prefix}${afterId}`;
      for (;;) {
        const page = await store.page(after, Math.min(100, limit - out.length));
        for (const item of page) {
          if (!item.key.startsWith(prefix)) return out;
          out.push(decode(kind, item.key.slice(prefix.length), item.version, item.data));
          if (out.length >= limit) return out;
        }
        const last = page[page.length - 1];
        if (!last) return out;
        after = last.key;
      }
    },
    async all<K extends ConfigKind>(tenantId: string, kind: K): Promise<StoredConfig<Message<K>>[]> {
      return this.list(tenantId, kind, undefined, 100_000);
    },
    /** Writes version `expectedVersion + 1` (0 creates). ConflictError when another writer got there first. */
    async write<K extends ConfigKind>(
      tenantId: string,
      kind: K,
      id: string,
      expectedVersion: number,
      value: Message<K>,
      createdAt: number,
      now: number,
    ): Promise<StoredConfig<Message<K>>> {
      const data: ConfigDocument = {
        json: (configKinds[kind].toJSON as (v: unknown) => unknown)(value),
        createdAt,
        updatedAt: now,
      };
      const result = await store.write(key(tenantId, kind, id), expectedVersion, data);
      if (result.outcome === 'conflict')
        throw new ConflictError(`${kind} ${JSON.stringify(id)} changed since it was read; read it again`);
      return decode(kind, id, result.version, data);
    },
    async remove(tenantId: string, kind: ConfigKind, id: string, expectedVersion?: number): Promise<boolean> {
      return store.remove(key(tenantId, kind, id), expectedVersion);
    },
    /**
     * Claims `value` for `holderId`: 'claimed' when this call inserted the claim, else the current
     * holder (which may be `holderId` itself). Claim keys sit beside the configuration objects
     * (`<tenant>/<claim kind>/<value>`), outside every kind's listing prefix.
     */
    async claim(
      tenantId: string,
      kind: ClaimKind,
      value: string,
      holderId: string,
      now: number,
    ): Promise<'claimed' | ClaimHolder> {
      for (let attempt = 0; attempt < 5; attempt += 1) {
        const result = await store.write(claimKey(tenantId, kind, value), 0, {
          json: { holderId },
          createdAt: now,
          updatedAt: now,
        });
        if (result.outcome === 'written') return 'claimed';
        const holder = await this.claimHolder(tenantId, kind, value);
        if (holder) return holder;
        // Released between the failed insert and the read: claim again.
      }
      throw new ConflictError(`${kind} ${JSON.stringify(value)} keeps changing; try again`);
    },
    async claimHolder(tenantId: string, kind: ClaimKind, value: string): Promise<ClaimHolder | undefined> {
      const latest = await store.latest(claimKey(tenantId, kind, value));
      if (!latest) return undefined;
      const holderId = (latest.data.json as { holderId?: unknown } | undefined)?.holderId;
      return {
        holderId: typeof holderId === 'string' ? holderId : '',
        claimedAt: latest.data.createdAt,
        version: latest.version,
      };
    },
    /** Removes the claim if `holder` still holds it as read (true), else leaves it (false). */
    async releaseClaim(tenantId: string, kind: ClaimKind, value: string, holder: ClaimHolder): Promise<boolean> {
      return store.remove(claimKey(tenantId, kind, value), holder.version).catch((error: unknown) => {
        if (error instanceof ConflictError) return false;
        throw error;
      });
    },
  };
}

export type ConfigRepository = ReturnType<typeof createConfigRepository>;
