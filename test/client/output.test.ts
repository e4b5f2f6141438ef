import { describe, expect, it } from '@jest/globals';
import { ConfigError } from '../../client/config.js';
import { exit, exitCodeOf, output, UsageError } from '../../client/cli/output.js';
import { ProvisionerApiError } from '../../client/session.js';

/** Collects what the CLI writes, as a stream would receive it. */
function stream() {
  let text = '';
  return { write: (chunk: string) => ((text += chunk), true), get text() { return text; } };
}

describe('CLI errors', () => {
  it('are JSON on stdout under --json whatever their kind, with the field a config error names', () => {
    const cases: [unknown, object][] = [
      [new ConfigError('url', 'url in [defaults] of /x must be an http:// or https:// URL'), { code: 'invalid_config', details: { field: 'url' } }],
      [new UsageError('--timeout must be a duration such as 90s, 10m or 1h'), { code: 'usage' }],
      [new ProvisionerApiError(403, 'forbidden', 'no'), { code: 'forbidden', status: 403 }],
    ];
    for (const [error, expected] of cases) {
      // Arrange
      const [stdout, stderr] = [stream(), stream()];

      // Act
      output(true, stdout as never, stderr as never).error(error);

      // Assert
      expect(JSON.parse(stdout.text)).toEqual({ error: expect.objectContaining({ ...expected, message: (error as Error).message }) });
      expect(stderr.text).toContain((error as Error).message);
    }
  });

  it('exit 2 for a configuration the device flow needs and lacks, not "service unavailable"', () => {
    expect(exitCodeOf(new ProvisionerApiError(0, 'no_client_id', 'The device flow needs an OAuth app client id'))).toBe(exit.usage);
  });
});
