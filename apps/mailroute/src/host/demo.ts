import type { ChannelCredentials } from '@grpc/grpc-js';
import { Metadata, createChannel, createClient, type Channel } from 'nice-grpc';
import {
  AgentDesktopServiceDefinition,
  AgentPresence,
  OutgoingMessage,
  ReplyMode,
  SendState,
  type Interaction,
} from '@mailroute/contracts';
import { GraphSandboxAdminClient, demoProfile, type GraphSandboxEndpoints } from '@mailroute/graph-sandbox';
import type { Logger } from '@mailroute/platform';
import { openDemoSeedSequence, type DemoSeedSequence } from './demo-seed-sequence';
import type { HostTenant, RunningHost } from './host';

/** Counters the demo keeps for the progress line. */
export interface DemoCounters {
  delivered: number;
  offered: number;
  accepted: number;
  replied: number;
  sent: number;
  failedSends: number;
}

export interface Demo {
  counters: DemoCounters;
  stop(): Promise<void>;
}

export interface DemoOptions {
  traffic: boolean;
  emailsPerMinute: number;
  agents: boolean;
}

/**
 * The demo switch: a traffic generator that delivers realistic mail (inquiries, HTML, follow-ups,
 * attachments, auto-replies, bounces, hostile HTML, other languages) into the sandbox's routed
 * mailboxes, and simulated agents who sign in with Microsoft (the sandbox's device-code flow),
 * connect to the desktop stream, accept what is offered and reply after a short "reading" pause.
 */
export function startDemo(host: RunningHost, options: DemoOptions, logger: Logger): Demo {
  const sandbox = host.sandbox;
  const tenant = host.tenants.find((entry) => entry.demo);
  const counters: DemoCounters = { delivered: 0, offered: 0, accepted: 0, replied: 0, sent: 0, failedSends: 0 };
  const stop = new AbortController();
  const tasks: Promise<void>[] = [];
  if (!sandbox || !tenant) return { counters, stop: async () => undefined };
  const admin = new GraphSandboxAdminClient(sandbox.adminUrl);
  if (options.traffic)
    tasks.push(
      runTraffic(admin, tenant, openDemoSeedSequence(host.dataDir), options.emailsPerMinute, counters, stop.signal, logger),
    );
  if (options.agents) {
    // Only the sandbox's simulated agents: the console's agent (carol) is left to a person.
    const simulated = new Set<string>(demoProfile.agents);
    for (const agent of tenant.config.agents.filter((candidate) => simulated.has(candidate.upn)))
      tasks.push(
        runAgent(
          host.addresses['interaction-router'],
          host.grpcCredentials,
          sandbox,
          admin,
          tenant,
          agent.upn,
          counters,
          stop.signal,
          logger,
        ),
      );
  }
  return {
    counters,
    stop: async () => {
      stop.abort();
      await Promise.allSettled(tasks);
    },
  };
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

async function runTraffic(
  admin: GraphSandboxAdminClient,
  tenant: HostTenant,
  seeds: DemoSeedSequence,
  perMinute: number,
  counters: DemoCounters,
  signal: AbortSignal,
  logger: Logger,
): Promise<void> {
  const mailboxes = tenant.config.mailboxes.map((mailbox) => mailbox.address);
  const gapMs = 60_000 / perMinute;
  while (!signal.aborted) {
    const seed = seeds.next();
    const address = mailboxes[seed % mailboxes.length] ?? '';
    try {
      await admin.generateTraffic(tenant.config.directoryId, address, { count: 1, seed, mix: { large: 0 } });
      counters.delivered += 1;
    } catch (error) {
      logger.warn({ err: error }, 'demo: delivering generated mail failed');
    }
    await sleep(gapMs, signal);
  }
}

/** Signs an agent in through the sandbox's device-code flow, approving the code as the user would in a browser. */
async function signInAgent(
  sandbox: GraphSandboxEndpoints,
  admin: GraphSandboxAdminClient,
  directoryId: string,
  desktopClientId: string,
  upn: string,
): Promise<string> {
  const base = `${sandbox.baseUrl}/${directoryId}/oauth2/v2.0`;
  const form = (fields: Record<string, string>) => ({
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
  const codeResponse = await fetch(
    `${base}/devicecode`,
    form({ client_id: desktopClientId, scope: 'openid profile offline_access' }),
  );
  if (!codeResponse.ok) throw new Error(`device code request failed: ${codeResponse.status} ${await codeResponse.text()}`);
  const code = (await codeResponse.json()) as { device_code: string; user_code: string; interval?: number };
  await admin.approveDeviceCode(code.user_code, upn);
  for (let attempt = 0; attempt < 30; attempt += 1) {
    const tokenResponse = await fetch(
      `${base}/token`,
      form({
        grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
        client_id: desktopClientId,
        device_code: code.device_code,
      }),
    );
    const body = (await tokenResponse.json()) as { id_token?: string; error?: string };
    if (tokenResponse.ok && body.id_token) return body.id_token;
    if (body.error !== 'authorization_pending' && body.error !== 'slow_down')
      throw new Error(`sign-in of ${upn} failed: ${body.error ?? tokenResponse.status}`);
    await new Promise((resolve) => setTimeout(resolve, Math.max(1, code.interval ?? 1) * 1000));
  }
  throw new Error(`sign-in of ${upn} did not complete`);
}

async function runAgent(
  routerAddress: string,
  credentials: ChannelCredentials,
  sandbox: GraphSandboxEndpoints,
  admin: GraphSandboxAdminClient,
  tenant: HostTenant,
  upn: string,
  counters: DemoCounters,
  signal: AbortSignal,
  logger: Logger,
): Promise<void> {
  while (!signal.aborted) {
    let channel: Channel | undefined;
    try {
      const token = await signInAgent(sandbox, admin, tenant.config.directoryId, demoProfile.desktopClientId, upn);
      channel = createChannel(routerAddress, credentials);
      const desktop = createClient(AgentDesktopServiceDefinition, channel, {
        '*': { metadata: Metadata({ authorization: `Bearer ${token}` }) },
      });
      const handled = new Set<string>();
      for await (const update of desktop.connect(
        {
          clientInstanceId: `demo-${upn.replace(/[^A-Za-z0-9._-]/g, '-')}`,
          initialPresence: AgentPresence.AGENT_PRESENCE_AVAILABLE,
        },
        { signal },
      )) {
        const event = update.event;
        const fail = (error: unknown) => {
          if (!signal.aborted)
            logger.debug({ err: error, agent: upn }, 'demo: an agent action failed (the offer may have lapsed)');
        };
        /** Reads it, then replies once (the key makes a repeat after a restart change nothing) or closes automated mail. */
        const work = async (interaction: Interaction) => {
          if (handled.has(interaction.interactionId)) return;
          handled.add(interaction.interactionId);
          await sleep(1000 + Math.random() * 3000, signal);
          if (signal.aborted) return;
          const automation = interaction.automation;
          if (automation && (automation.autoReply || automation.bounce || automation.noReplySender || automation.loopSuspected)) {
            // A real agent reads it and closes it: nobody to answer (mailroute would refuse the reply anyway).
            await desktop.complete({
              interactionId: interaction.interactionId,
              dispositionCode: 'automated',
              note: 'demo: automated mail, no reply',
            });
            return;
          }
          if (interaction.replyCount > 0) {
            await desktop.complete({ interactionId: interaction.interactionId, dispositionCode: 'answered', note: '' });
            return;
          }
          await desktop.reply({
            idempotencyKey: `demo-${interaction.interactionId}`,
            interactionId: interaction.interactionId,
            replyToGraphMessageId: '',
            mode: ReplyMode.REPLY_MODE_REPLY,
            content: OutgoingMessage.fromPartial({
              bodyHtml: `<p>Hello,</p><p>thank you for writing to us. ${upn.split('@')[0]} from the Contoso team is on it.</p>`,
            }),
            completeAfterSend: true,
          });
          counters.replied += 1;
        };
        const acceptAndWork = async (offerId: string) => {
          await sleep(500 + Math.random() * 1500, signal);
          if (signal.aborted) return;
          const accepted = await desktop.accept({ offerId });
          counters.accepted += 1;
          if (accepted.interaction) await work(accepted.interaction);
        };
        if (event?.$case === 'snapshot') {
          // After a restart (ours or the router's): what was already ours, and offers still open.
          for (const interaction of event.value.assigned) void work(interaction).catch(fail);
          for (const offer of event.value.pendingOffers) {
            counters.offered += 1;
            void acceptAndWork(offer.offerId).catch(fail);
          }
        } else if (event?.$case === 'offer') {
          counters.offered += 1;
          void acceptAndWork(event.value.offerId).catch(fail);
        } else if (event?.$case === 'sendResult') {
          if (event.value.state === SendState.SEND_STATE_SENT) counters.sent += 1;
          else if (event.value.state === SendState.SEND_STATE_OUTCOME_UNKNOWN) {
            // May have gone out: counted as sent, never replied to again; the agent completes it to free the slot.
            counters.sent += 1;
            void desktop
              .complete({
                interactionId: event.value.interactionId,
                dispositionCode: 'send-outcome-unknown',
                note: event.value.failure?.message ?? '',
              })
              .catch(() => undefined);
          } else if (event.value.state === SendState.SEND_STATE_FAILED) {
            counters.failedSends += 1;
            logger.info(
              { agent: upn, interactionId: event.value.interactionId, state: event.value.state, failure: event.value.failure },
              'demo: a reply was not sent',
            );
            // The agent gives up on it rather than keep the capacity taken.
            void desktop
              .complete({
                interactionId: event.value.interactionId,
                dispositionCode: 'send-failed',
                note: event.value.failure?.message ?? '',
              })
              .catch(() => undefined);
          }
        }
      }
    } catch (error) {
      if (signal.aborted) return;
      logger.warn({ err: error, agent: upn }, 'demo: agent disconnected; signing in again');
      await sleep(2_000, signal);
    } finally {
      channel?.close();
    }
  }
}
