import { Metadata, Status, ClientError } from 'nice-grpc';
import {
  AuthBrokerServiceDefinition,
  AuthorityCloud,
  InteractionRouterServiceDefinition,
  MailboxFetchServiceDefinition,
  QueueStrategy,
  RoutingRule,
} from '@mailroute/contracts';
import { demoProfile } from '@mailroute/graph-sandbox';
import { createGrpcClient, type Logger } from '@mailroute/platform';
import type { Env } from '@mailroute/platform';
import { demoAcknowledgement, demoCalendar, demoCalendarId, demoQueueHours, demoTemplates } from './demo-routing-content';
import type { RunningHost } from './host';

const publicAuthority = 'https://login.microsoftonline.com';

/** What seeding did for one tenant: objects created now, and those that existed already. */
export interface SeedReport {
  tenantId: string;
  created: string[];
  existing: string[];
}

/** Creates if missing; ALREADY_EXISTS means an earlier run (or an operator) created it. */
async function ensure(name: string, report: SeedReport, create: () => Promise<unknown>): Promise<void> {
  try {
    await create();
    report.created.push(name);
  } catch (error) {
    if (error instanceof ClientError && error.code === Status.ALREADY_EXISTS) report.existing.push(name);
    else throw error;
  }
}

/**
 * Registers each tenant of the host through the services' public gRPC APIs, exactly as a workload
 * manager (or the `mailroute` CLI) would: credentials in auth-broker, mailboxes in mailbox-fetch,
 * queues, a routing rule per mailbox and agents in the interaction router (the demo tenant also gets
 * a calendar, used by its sales queue, templates, and acknowledgements on its queues:
 * demo-routing-content.ts). Idempotent: a restart
 * keeps what is there, and never overwrites changes made through the APIs since.
 */
export async function seedTenants(host: RunningHost, logger: Logger, env: Env = process.env): Promise<SeedReport[]> {
  const auth = createGrpcClient(AuthBrokerServiceDefinition, host.addresses['auth-broker'], {
    deadlineMs: 30_000,
    credentials: host.grpcCredentials,
  });
  const fetch = createGrpcClient(MailboxFetchServiceDefinition, host.addresses['mailbox-fetch'], {
    deadlineMs: 30_000,
    credentials: host.grpcCredentials,
  });
  const router = createGrpcClient(InteractionRouterServiceDefinition, host.addresses['interaction-router'], {
    deadlineMs: 30_000,
    credentials: host.grpcCredentials,
  });
  const reports: SeedReport[] = [];
  try {
    for (const tenant of host.tenants) {
      const { config } = tenant;
      const options = { metadata: Metadata({ authorization: `Bearer ${tenant.apiKey}` }) };
      const report: SeedReport = { tenantId: config.id, created: [], existing: [] };
      const secret = tenant.demo ? demoProfile.clientSecret : env[config.clientSecretEnv];
      if (secret) {
        await ensure('credentials default', report, () =>
          auth.client.createTenantCredentials(
            {
              credentialsId: 'default',
              spec: {
                displayName: config.displayName ?? config.id,
                directoryId: config.directoryId,
                clientId: config.clientId,
                cloud:
                  config.authorityHost === publicAuthority && !config.graphEndpoint
                    ? AuthorityCloud.AUTHORITY_CLOUD_GLOBAL
                    : AuthorityCloud.AUTHORITY_CLOUD_CUSTOM,
                authorityHost: config.authorityHost === publicAuthority && !config.graphEndpoint ? '' : config.authorityHost,
                graphEndpoint: config.graphEndpoint ?? '',
                credential: {
                  $case: 'clientSecret',
                  value: { value: secret, expiresAt: new Date(`${config.clientSecretExpires}T00:00:00Z`) },
                },
              },
            },
            options,
          ),
        );
      }
      if (tenant.demo) {
        await ensure(`calendar ${demoCalendarId}`, report, () =>
          router.client.createCalendar({ calendarId: demoCalendarId, calendar: demoCalendar }, options),
        );
        // Before the queues, whose acknowledgements name them.
        for (const [templateId, template] of Object.entries(demoTemplates)) {
          await ensure(`template ${templateId}`, report, () => router.client.createTemplate({ templateId, template }, options));
        }
      }
      for (const queue of config.queues) {
        const hours = tenant.demo ? demoQueueHours[queue.id] : undefined;
        await ensure(`queue ${queue.id}`, report, () =>
          router.client.createQueue(
            {
              queueId: queue.id,
              queue: {
                displayName: queue.displayName ?? queue.id,
                strategy: QueueStrategy.QUEUE_STRATEGY_LONGEST_IDLE,
                ...(hours ? { hours } : {}),
                ...(tenant.demo ? { acknowledgement: demoAcknowledgement } : {}),
              },
            },
            options,
          ),
        );
      }
      for (const [position, rule] of config.rules.entries()) {
        await ensure(`rule ${rule.id}`, report, () =>
          router.client.createRoutingRule(
            {
              ruleId: rule.id,
              rule: RoutingRule.fromPartial({
                displayName: rule.id,
                enabled: true,
                condition: {
                  subjectPatterns: rule.subjectContains.map((text) => ({ pattern: { $case: 'contains' as const, value: text } })),
                },
                action: {
                  action: {
                    $case: 'route',
                    value: {
                      queueId: rule.queue,
                      ...(rule.priority !== undefined ? { priority: rule.priority } : {}),
                      requiredSkills: [],
                      tags: rule.tags,
                    },
                  },
                },
              }),
              position,
            },
            options,
          ),
        );
      }
      for (const mailbox of config.mailboxes) {
        await ensure(`mailbox ${mailbox.id}`, report, () =>
          fetch.client.createMailbox(
            {
              mailboxId: mailbox.id,
              mailbox: {
                address: mailbox.address,
                credentialsId: 'default',
                defaultQueueId: mailbox.queue ?? '',
                ...(mailbox.pollIntervalSeconds ? { pollInterval: { seconds: mailbox.pollIntervalSeconds, nanos: 0 } } : {}),
              },
            },
            options,
          ),
        );
      }
      for (const agent of config.agents) {
        await ensure(`agent ${agent.id}`, report, () =>
          router.client.createAgent(
            {
              agentId: agent.id,
              agent: {
                displayName: agent.displayName ?? agent.upn,
                userPrincipalName: agent.upn,
                queueIds: agent.queues,
                capacity: agent.capacity,
              },
            },
            options,
          ),
        );
      }
      logger.info({ tenant: config.id, created: report.created, existing: report.existing.length }, 'host: tenant registered');
      reports.push(report);
    }
    return reports;
  } finally {
    auth.close();
    fetch.close();
    router.close();
  }
}
