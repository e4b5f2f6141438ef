import { describe, expect, it } from '@jest/globals';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../client/config.js';

function configFile(text: string, mode = 0o600): string {
  const path = join(mkdtempSync(join(tmpdir(), 'provisioner-config-')), 'provisioner.toml');
  writeFileSync(path, text);
  chmodSync(path, mode);
  return path;
}

describe('client configuration', () => {
  const file = configFile(`
[defaults]
url = "https://file.example"
retries = 5
timeout = 12
audience = "file-audience"

[credentials]
github_token = "ghp_from_file"
`);

  it('takes environment variables over the file, and the file over the defaults', () => {
    const fromFile = loadConfig({ PROVISIONER_CONFIG: file }, '/home/nobody');
    expect(fromFile).toMatchObject({ url: 'https://file.example', retries: 5, timeoutMs: 12_000, audience: 'file-audience', githubToken: 'ghp_from_file' });
    const fromEnv = loadConfig({ PROVISIONER_CONFIG: file, PROVISIONER_URL: 'https://env.example/', PROVISIONER_GITHUB_TOKEN: 'ghp_env', PROVISIONER_TOKEN: 'jwt' }, '/home/nobody');
    expect(fromEnv).toMatchObject({ url: 'https://env.example', githubToken: 'ghp_env', token: 'jwt', retries: 5 });
    const defaults = loadConfig({ PROVISIONER_CONFIG: '/does/not/exist.toml' }, '/home/nobody');
    expect(defaults).toMatchObject({ url: 'http://127.0.0.1:2323', retries: 3, timeoutMs: 30_000, audience: 'provisioner', cacheDir: '/home/nobody/.cache/provisioner' });
  });

  it('reads ~/.config/provisioner.toml by default', () => {
    const home = mkdtempSync(join(tmpdir(), 'home-'));
    expect(loadConfig({}, home).configPath).toBe(join(home, '.config', 'provisioner.toml'));
  });

  it('refuses a config file others can read, telling the chmod to run', () => {
    const open = configFile('[defaults]\nurl = "https://x.example"\n', 0o644);
    expect(() => loadConfig({ PROVISIONER_CONFIG: open })).toThrow(ConfigError);
    expect(() => loadConfig({ PROVISIONER_CONFIG: open })).toThrow(`run: chmod 600 ${open}`);
  });

  it('names what is wrong in a bad file or setting', () => {
    expect(() => loadConfig({ PROVISIONER_CONFIG: configFile('[defaults\n') })).toThrow(/not valid TOML/);
    expect(() => loadConfig({ PROVISIONER_CONFIG: file, PROVISIONER_RETRIES: 'lots' })).toThrow(/PROVISIONER_RETRIES must be a whole number/);
    expect(() => loadConfig({ PROVISIONER_CONFIG: file, PROVISIONER_URL: 'not a url' })).toThrow(/PROVISIONER_URL must be an http:\/\/ or https:\/\/ URL/);
  });

  it('refuses a url that is not an http(s) URL, naming the field and where it was set', () => {
    for (const [text, shown] of [
      ['url = 123', '123'],
      ['url = "localhost:4104"', 'localhost:4104'],
      ['url = "ftp://provisioner.example.com"', 'ftp://provisioner.example.com'],
      ['url = "https://provisioner.example.com?x=1"', 'https://provisioner.example.com?x=1'],
    ]) {
      // Arrange
      const path = configFile(`[defaults]\n${text}\n`);

      // Act
      const error = (() => {
        try {
          return loadConfig({ PROVISIONER_CONFIG: path });
        } catch (e) {
          return e;
        }
      })();

      // Assert
      expect(error).toBeInstanceOf(ConfigError);
      expect(error).toMatchObject({ field: 'url', message: expect.stringContaining(`url in [defaults] of ${path}`) });
      expect((error as Error).message).toContain(shown);
    }
    expect(() => loadConfig({ PROVISIONER_CONFIG: file, PROVISIONER_URL: 'localhost:4104' })).toThrow(/PROVISIONER_URL must be an http:\/\/ or https:\/\/ URL.*did you mean http:\/\/localhost:4104/);
  });

  it('refuses settings of the wrong type instead of failing later', () => {
    const cases: [string, string][] = [
      ['[defaults]\ngithub_url = "github.com"', 'github_url'],
      ['[defaults]\naudience = 7', 'audience'],
      ['[defaults]\nclient_id = true', 'client_id'],
      ['[credentials]\ngithub_token = 123', 'github_token'],
      ['[credentials]\ntoken = ["a"]', 'token'],
      ['defaults = "https://x.example"', 'defaults'],
    ];
    for (const [text, field] of cases) {
      expect(() => loadConfig({ PROVISIONER_CONFIG: configFile(`${text}\n`) })).toThrow(expect.objectContaining({ name: 'ConfigError', field }));
    }
  });
});
