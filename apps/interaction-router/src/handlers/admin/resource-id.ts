import { idRules } from '@mailroute/platform';

/** Resource ids (and skill names) have common.proto's resource-id shape, as every service checks it. */
export const resourceId = idRules.resource.pattern;
