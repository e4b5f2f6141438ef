import { http } from '../../src/http/handler.js';
import { openidConfiguration } from '../../src/operations/identity.js';
import { tokenSettings } from '../../src/runtime/aws/settings.js';

export const handler = http('openid-configuration', openidConfiguration, { tokenSettings });
