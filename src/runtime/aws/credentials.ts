import { fromEnv } from '@aws-sdk/credential-provider-env';

/**
 * Lambda hands a function its role's credentials as environment variables (AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), so reading them is the whole credential chain a
 * function needs. Every client is given this provider.
 */
export const credentials = fromEnv();

/**
 * Stands in for `@aws-sdk/credential-provider-node` in the bundles (lib/bundling.ts aliases it here):
 * each SDK client imports that default chain (SSO, INI files, STS, IMDS…) statically even when given
 * `credentials`, and it is most of a bundle's SDK weight. A client built without `credentials` still
 * gets Lambda's environment credentials.
 */
export const defaultProvider = () => credentials;
