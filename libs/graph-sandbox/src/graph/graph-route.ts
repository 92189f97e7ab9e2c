import type { GraphCaller } from '../authz/access-token';
import type { MailAccess } from '../authz/permissions';
import type { Mailbox } from '../model/model.types';
import type { SandboxContext } from '../shared/sandbox-context';
import type { RenderOptions } from './message-serializer';

/** `Prefer` preferences a Graph request may carry. */
export interface GraphPreferences {
  maxPageSize?: number;
  immutableIds: boolean;
  bodyContentType?: 'text' | 'html';
}

/** What a Graph handler sees: the verified caller, the resolved mailbox and the parsed request. */
export interface GraphRequestContext {
  sandbox: SandboxContext;
  caller: GraphCaller;
  mailbox: Mailbox;
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
  prefer: GraphPreferences;
  /** Render options without `$select` (handlers add it). */
  render: RenderOptions;
  /** `https://host:port/v1.0/users/<user as in the URL>` for building absolute links. */
  userUrl: string;
  now: number;
}

/** What a handler answers: JSON (`body`), raw bytes (`raw`), or nothing (202/204). */
export interface GraphResult {
  status: number;
  body?: unknown;
  raw?: { contentType: string; data: Buffer | string };
  headers?: Record<string, string>;
}

export interface GraphRoute {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Path under `/v1.0/users/{user}/`, with `{param}` segments; matched case-insensitively. */
  path: string;
  /** Endpoint name for fault switches and statistics (`messages.list`, `messages.delta`, …). */
  name: string;
  access: MailAccess | 'user';
  handle(context: GraphRequestContext): GraphResult | Promise<GraphResult>;
}

export interface CompiledRoute extends GraphRoute {
  pattern: RegExp;
  paramNames: string[];
}

/** Compiles `mailFolders/{folder}/messages` to a case-insensitive regex capturing each param. */
export function compileRoute(route: GraphRoute): CompiledRoute {
  const paramNames: string[] = [];
  const source = route.path
    .split('/')
    .map((segment) => {
      const param = /^\{(\w+)\}$/.exec(segment);
      if (param?.[1]) {
        paramNames.push(param[1]);
        return '([^/]+)';
      }
      return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return { ...route, pattern: new RegExp(`^${source}$`, 'i'), paramNames };
}
