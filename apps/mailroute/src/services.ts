import { authBrokerService } from '@mailroute/auth-broker-service';
import { interactionRouterService } from '@mailroute/interaction-router-service';
import { mailboxFetchService } from '@mailroute/mailbox-fetch-service';
import { outboundSendService } from '@mailroute/outbound-send-service';
import { webGatewayService } from '@mailroute/web-gateway-service';
import type { HostedServiceDefinition } from './host/host';

/** The four services' and the web gateway's composition roots, exactly as their own `main.ts` runs them. */
export const hostedServices: readonly HostedServiceDefinition[] = [
  authBrokerService,
  mailboxFetchService,
  interactionRouterService,
  outboundSendService,
  webGatewayService,
];
