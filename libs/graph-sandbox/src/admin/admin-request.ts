// What every admin route shares: its dependencies, the path parameters, and the body check.
import type { FastifyInstance } from 'fastify';
import type { z } from 'zod';
import type { GrantStore } from '../entra/grant-store';
import { ValidationError } from '../errors';
import type { SandboxContext } from '../shared/sandbox-context';

export type TenantParams = { tenantId: string };
export type AppParams = TenantParams & { appId: string };
export type MailboxParams = TenantParams & { mailbox: string };

/** What the admin API reports about the running sandbox. */
export interface SandboxEndpoints {
  baseUrl: string;
  adminUrl: string;
  caCertPath: string;
}

/** What each group of admin routes is registered with. */
export interface AdminRouteDeps {
  app: FastifyInstance;
  context: SandboxContext;
  grants: GrantStore;
  endpoints: () => SandboxEndpoints;
}

/** The body checked against its schema; the first problem is a 400 naming the field. */
export function parse<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw new ValidationError(issue?.path.join('.') || '(body)', issue?.message ?? 'invalid');
}
