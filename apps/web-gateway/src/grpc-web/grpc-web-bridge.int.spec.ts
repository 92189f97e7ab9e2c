import { createServer, ServerError, Status, type CallContext, type Server } from 'nice-grpc';
import {
  AgentDesktopServiceDefinition,
  DownloadAttachmentRequest,
  DownloadAttachmentResponse,
  GetMyInteractionRequest,
} from '@mailroute/contracts';
import { launchChromium, waitFor, type TestBrowser } from '@mailroute/testing';
import type { Page } from 'playwright-core';
import { readCall, startTestGateway, type PageCall, type TestGateway, type TestPageGlobals } from '../../test/test-gateway';

const chunkBytes = 256 * 1024;

/**
 * The bridge's stream handling, against a gRPC server of the test's own on a real socket whose
 * handlers record what they saw: a DownloadAttachment stream that would produce chunks without end,
 * read by a real Chromium page through the gateway. Proves that a browser that stops reading holds
 * the upstream (nothing piles up in the gateway), that reading again resumes it, that the browser's
 * abort cancels the upstream call, that metadata goes up and trailers come back, and that a
 * gateway that shuts down ends open streams with UNAVAILABLE.
 */
describe('gRPC-web bridge: flow control, abort, metadata', () => {
  let upstream: Server;
  let gateway: TestGateway | undefined;
  let browser: TestBrowser | undefined;
  let page: Page;
  const produced = { chunks: 0, aborted: false, authorization: '' };

  beforeAll(async () => {
    const unimplemented = Object.fromEntries(
      Object.keys(AgentDesktopServiceDefinition.methods).map((name) => [
        name,
        () => {
          throw new ServerError(Status.UNIMPLEMENTED, 'not in this test');
        },
      ]),
    );
    upstream = createServer();
    upstream.add(AgentDesktopServiceDefinition, {
      ...unimplemented,
      async getMyInteraction(request: GetMyInteractionRequest, context: CallContext) {
        produced.authorization = context.metadata.get('authorization') ?? '';
        context.trailer.set('mailroute-error-code', 'TEST_REASON');
        throw new ServerError(Status.FAILED_PRECONDITION, `no interaction ${request.interactionId} here`);
      },
      async *downloadAttachment(_request: DownloadAttachmentRequest, context: CallContext) {
        context.signal.addEventListener('abort', () => (produced.aborted = true));
        const chunk = Buffer.alloc(chunkBytes, 1);
        for (;;) {
          // nice-grpc waits for the HTTP/2 stream to drain before it asks the generator for the next one.
          yield DownloadAttachmentResponse.fromPartial({ part: { $case: 'chunk', value: chunk } });
          produced.chunks += 1;
        }
      },
    } as never);
    const port = await upstream.listen('127.0.0.1:0');
    gateway = await startTestGateway({ WEB_GATEWAY_ROUTER_ADDRESS: `127.0.0.1:${port}` });
    browser = await launchChromium();
    page = (await browser.newPage()).page;
    await page.goto(gateway.url);
    await page.waitForFunction(
      () => (globalThis as unknown as TestPageGlobals).document.getElementById('status')?.textContent === 'ready',
    );
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await gateway?.stop();
    await upstream?.shutdown();
  });

  const read = async (index: number) =>
    (await page.evaluate((i) => (globalThis as unknown as TestPageGlobals).grpcWeb.read(i), index)) as PageCall;
  /** Waits until the upstream has produced nothing new over five polls 200 ms apart; returns the count. */
  const settled = async () => {
    let last = -1;
    let still = 0;
    return waitFor(
      () => {
        still = produced.chunks === last ? still + 1 : 0;
        last = produced.chunks;
        return still >= 5 ? last : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 200, description: 'the upstream to stop producing' },
    );
  };

  it('holds the upstream while the browser does not read, resumes when it does, and cancels it on abort', async () => {
    const request = Buffer.from(
      DownloadAttachmentRequest.encode(DownloadAttachmentRequest.fromPartial({ interactionId: 'i-1' })).finish(),
    );
    const index = await page.evaluate(
      ([m]) => {
        const web = (globalThis as unknown as TestPageGlobals).grpcWeb;
        const opened = web.open('/mailroute.v1.AgentDesktopService/DownloadAttachment', m, 'token');
        web.pause(opened);
        return opened;
      },
      [request.toString('base64')] as const,
    );
    const held = await settled();
    // Only the buffers between the two ends (HTTP/2 windows, sockets, Chromium's network buffer) fill:
    // a few MiB, not the endless stream the upstream would produce if the gateway read it regardless.
    expect(held * chunkBytes).toBeLessThan(64 * 1024 * 1024);
    expect(gateway?.parts.server.openStreams()).toBe(1);

    await page.evaluate((i) => (globalThis as unknown as TestPageGlobals).grpcWeb.resume(i), index);
    await waitFor(() => produced.chunks > held + 40, { timeoutMs: 60_000, description: 'the upstream producing again' });
    const seen = readCall(await read(index)).messages;
    expect(DownloadAttachmentResponse.decode(seen[0] ?? Buffer.alloc(0)).part?.$case).toBe('chunk');

    await page.evaluate((i) => (globalThis as unknown as TestPageGlobals).grpcWeb.abort(i), index);
    await waitFor(() => produced.aborted, { timeoutMs: 10_000, description: "the upstream call's abort signal" });
    await waitFor(() => gateway?.parts.server.openStreams() === 0, { timeoutMs: 10_000, description: 'no open stream left' });
  });

  it('forwards the Authorization header and returns the status with the trailing metadata', async () => {
    const call = (await page.evaluate(
      ([m]) =>
        (globalThis as unknown as TestPageGlobals).grpcWeb.unary(
          '/mailroute.v1.AgentDesktopService/GetMyInteraction',
          m,
          'abc.def',
        ),
      [Buffer.from(GetMyInteractionRequest.encode({ interactionId: 'i-9' }).finish()).toString('base64')] as const,
    )) as PageCall;
    const { code, message, trailers } = readCall(call);
    expect(produced.authorization).toBe('Bearer abc.def');
    expect(code).toBe(Status.FAILED_PRECONDITION);
    expect(message).toBe('no interaction i-9 here');
    expect(trailers.get('mailroute-error-code')).toBe('TEST_REASON');
  });

  it('ends open streams with UNAVAILABLE when the gateway shuts down', async () => {
    const request = Buffer.from(
      DownloadAttachmentRequest.encode(DownloadAttachmentRequest.fromPartial({ interactionId: 'i-2' })).finish(),
    );
    produced.aborted = false;
    const index = await page.evaluate(
      ([m]) =>
        (globalThis as unknown as TestPageGlobals).grpcWeb.open(
          '/mailroute.v1.AgentDesktopService/DownloadAttachment',
          m,
          'token',
        ),
      [request.toString('base64')] as const,
    );
    await waitFor(() => gateway?.parts.server.openStreams() === 1, { timeoutMs: 10_000, description: 'the stream open' });
    await gateway?.parts.server.shutdown(5_000);
    const ended = await waitFor(async () => ((await read(index)).done ? read(index) : undefined), {
      timeoutMs: 10_000,
      intervalMs: 100,
      description: 'the stream ended in the browser',
    });
    expect(readCall(ended).code).toBe(Status.UNAVAILABLE);
    expect(produced.aborted).toBe(true);
  });
});
