/**
 * The one definition of a resource name (a cluster today; workspaces and workbenches next): a DNS
 * label of 2-63 lowercase letters, digits or dashes, starting with a letter or digit. The catalog,
 * the API's schemas and the list cursors all use it.
 */
export const resourceNamePattern = /^[a-z0-9][a-z0-9-]{1,62}$/;
export const resourceNameRule = '2-63 lowercase letters, digits or dashes, starting with a letter or digit';

export function isResourceName(text: string): boolean {
  return resourceNamePattern.test(text);
}
