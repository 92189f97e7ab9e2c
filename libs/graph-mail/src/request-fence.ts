import {
  Client,
  HTTPMessageHandler,
  type Context,
  type Middleware,
  type MiddlewareOptions,
} from '@microsoft/microsoft-graph-client';

/**
 * The header that carries the instant (epoch ms, the sending process's clock) at which the request's
 * fence last allowed it. Graph ignores it; a recording proxy in front of Graph can tell by it whether a
 * request that arrived late was allowed before its sender stalled, or after.
 */
export const fenceCheckedAtHeader = 'x-mailroute-fence-checked-at';

/** A request's fence: run by the last middleware, right before fetch; what it throws ends the request. */
export class RequestFence implements MiddlewareOptions {
  constructor(
    readonly check: () => void,
    readonly clock: () => number,
  ) {}
}

/**
 * Runs a request's RequestFence as the last step before the request is handed to fetch, so the time
 * between the check and the socket write is as short as this process can make it. (A process stopped in
 * that remaining window still sends on resume — Graph offers no server-side fencing — and the header lets
 * a test tell such a request from one allowed after the stop.)
 */
class FenceHandler implements Middleware {
  private next: Middleware | undefined;

  async execute(context: Context): Promise<void> {
    const fence = context.middlewareControl?.getMiddlewareOptions(RequestFence) as RequestFence | undefined;
    if (fence) {
      fence.check();
      const options = (context.options ??= {});
      options.headers = {
        ...(options.headers as Record<string, string> | undefined),
        [fenceCheckedAtHeader]: String(fence.clock()),
      };
    }
    await this.next?.execute(context);
  }

  setNext(next: Middleware): void {
    this.next = next;
  }
}

/** The one way both Graph clients create their Graph client: fence, then fetch; no retry handler (mailbox-call.ts retries). */
export function createFencedGraphClient(): Client {
  const fence = new FenceHandler();
  fence.setNext(new HTTPMessageHandler());
  return Client.initWithMiddleware({ middleware: fence, defaultVersion: 'v1.0' });
}
